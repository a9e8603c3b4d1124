import MarginCore

/// The dynamic risk model's settings as text and numbers (`calibration:` in the YAML
/// configuration, `MARGIN_ENGINE_CALIBRATION_<KEY>`, `--set calibration.<key>=…`, and the flags of
/// `calibrate` and `backtest`). ``modelSettings()`` is the one place they are parsed; defaults and
/// their sources are documented on ``RiskModelSettings``.
public struct CalibrationSettings: Codable, Sendable, Hashable {
    /// Seed history: `UNDERLYING=file.csv,…`, bare files, or `builtin`.
    public var prices = "builtin"
    /// The preset whose grid the calibration rescales.
    public var base = "deribit-like"
    /// `buffer`, `stress-weight`, `floor`, `none`, or several joined by `+`.
    public var apc = "stress-weight+floor"
    public var lambda = EWMAVariance.riskMetricsLambda
    public var horizonDays = 2
    public var confidence = 0.99
    /// Scenario dates kept, most recent first (0: all).
    public var lookbackDays = 0
    /// `es` or `var`.
    public var measure = "es"
    /// `worst_of_grid` or `none`.
    public var volTreatment = "worst_of_grid"
    /// Blend weight of FHS; nil: the maximum of grid and FHS.
    public var fhsWeight: Double?
    public var decorrelation = 0.5
    public var maxStep = 0.25
    /// `0.05`, or per underlying `BTC=0.06,ETH=0.08` (`*` for the rest).
    public var priceRangeFloor = "0.05"
    /// The calibrator's compacted topic of daily closes.
    public var riskFactorsTopic = "margin.riskfactors.v1"
    /// The calibrator recalibrates at least this often (market time; 0: only on new days and moves).
    public var intervalMs: Int64 = 6 * 3_600_000
    /// Relative EWMA volatility move that triggers a recalibration.
    public var volMoveThreshold = 0.25

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case prices, base, apc, lambda, horizonDays = "horizon_days", confidence, lookbackDays = "lookback_days", measure
        case volTreatment = "vol_treatment", fhsWeight = "fhs_weight", decorrelation, maxStep = "max_step"
        case priceRangeFloor = "price_range_floor", riskFactorsTopic = "risk_factors_topic", intervalMs = "interval_ms"
        case volMoveThreshold = "vol_move_threshold"
    }

    public init(from decoder: any Decoder) throws {
        let d = CalibrationSettings()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        prices = try c.decodeIfPresent(String.self, forKey: .prices) ?? d.prices
        base = try c.decodeIfPresent(String.self, forKey: .base) ?? d.base
        apc = try c.decodeIfPresent(String.self, forKey: .apc) ?? d.apc
        lambda = try c.decodeIfPresent(Double.self, forKey: .lambda) ?? d.lambda
        horizonDays = try c.decodeIfPresent(Int.self, forKey: .horizonDays) ?? d.horizonDays
        confidence = try c.decodeIfPresent(Double.self, forKey: .confidence) ?? d.confidence
        lookbackDays = try c.decodeIfPresent(Int.self, forKey: .lookbackDays) ?? d.lookbackDays
        measure = try c.decodeIfPresent(String.self, forKey: .measure) ?? d.measure
        volTreatment = try c.decodeIfPresent(String.self, forKey: .volTreatment) ?? d.volTreatment
        fhsWeight = try c.decodeIfPresent(Double.self, forKey: .fhsWeight)
        decorrelation = try c.decodeIfPresent(Double.self, forKey: .decorrelation) ?? d.decorrelation
        maxStep = try c.decodeIfPresent(Double.self, forKey: .maxStep) ?? d.maxStep
        priceRangeFloor = try c.decodeIfPresent(String.self, forKey: .priceRangeFloor) ?? d.priceRangeFloor
        riskFactorsTopic = try c.decodeIfPresent(String.self, forKey: .riskFactorsTopic) ?? d.riskFactorsTopic
        intervalMs = try c.decodeIfPresent(Int64.self, forKey: .intervalMs) ?? d.intervalMs
        volMoveThreshold = try c.decodeIfPresent(Double.self, forKey: .volMoveThreshold) ?? d.volMoveThreshold
    }

    /// The validated model settings.
    public func modelSettings() throws(MarginError) -> RiskModelSettings {
        var s = RiskModelSettings()
        s.lambda = lambda
        s.horizonDays = horizonDays
        s.confidence = confidence
        s.lookbackDays = lookbackDays
        s.apc = try RiskModelSettings.AntiProcyclicality(label: apc)
        guard let m = HistoricalScenarioSet.Measure(rawValue: measure) else { throw .invalidInput(field: "calibration.measure", reason: "es or var, got \(measure)") }
        s.measure = m
        guard let v = HistoricalScenarioSet.VolatilityTreatment(rawValue: volTreatment) else {
            throw .invalidInput(field: "calibration.vol_treatment", reason: "worst_of_grid or none, got \(volTreatment)")
        }
        s.volatilityTreatment = v
        if let fhsWeight { s.combination = .weighted(fhsWeight) }
        s.decorrelation = decorrelation
        s.maxStep = maxStep
        var floors: [String: Double] = [:]
        for item in priceRangeFloor.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard let text = parts.last, let value = Double(text) else {
                throw .invalidInput(field: "calibration.price_range_floor", reason: "`\(item)` is not a number")
            }
            floors[parts.count == 2 ? String(parts[0]) : "*"] = value
        }
        s.priceRangeFloor = floors
        try s.validate()
        return s
    }

    /// The live calibrator's schedule.
    public func liveSettings() -> LiveCalibration.Settings {
        var live = LiveCalibration.Settings()
        live.intervalMs = intervalMs
        live.volatilityMoveThreshold = volMoveThreshold
        return live
    }
}
