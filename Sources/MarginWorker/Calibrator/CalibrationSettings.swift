import MarginCore

/// The dynamic risk model's settings as text and numbers (`calibration:` in the YAML
/// configuration, `MARGIN_ENGINE_CALIBRATION_<KEY>`, `--set calibration.<key>=…`, and the flags of
/// `calibrate` and `backtest`). ``modelSettings()`` is the one place they are parsed; the defaults
/// are ``RiskModelSettings``'s (documented there with their sources).
public struct CalibrationSettings: Sendable, Hashable {
    /// Seed history: `UNDERLYING=file.csv,…`, bare files, or `builtin`.
    public var prices = "builtin"
    /// The preset whose grid the calibration rescales.
    public var base = "deribit-like"
    /// `buffer`, `stress-weight`, `floor`, `none`, or several joined by `+`.
    public var apc = RiskModelSettings().apc.label
    public var lambda = RiskModelSettings().lambda
    /// `ewma`, `asymmetric_ewma`, `gjr_garch` or `har` (``VolatilityModel``).
    public var volatilityModel = RiskModelSettings().volatilityModel.rawValue
    /// Bound of the revolatilisation factor (0: none).
    public var maxRevolatilisation = RiskModelSettings().maxRevolatilisation ?? 0
    public var horizonDays = RiskModelSettings().horizonDays
    public var confidence = RiskModelSettings().confidence
    /// Scenario dates kept, most recent first (0: all).
    public var lookbackDays = RiskModelSettings().lookbackDays
    /// `es` or `var`.
    public var measure = RiskModelSettings().measure.rawValue
    /// `worst_of_grid` or `none`.
    public var volTreatment = RiskModelSettings().volatilityTreatment.rawValue
    /// Blend weight of FHS; nil: the maximum of grid and FHS.
    public var fhsWeight: Double?
    public var decorrelation = RiskModelSettings().decorrelation
    public var maxStep = RiskModelSettings().maxStep
    /// `0.05`, or per underlying `BTC=0.06,ETH=0.08` (`*` for the rest).
    public var priceRangeFloor = RiskModelSettings().priceRangeFloor.sorted { $0.key < $1.key }.map { $0.key == "*" ? String($0.value) : "\($0.key)=\($0.value)" }.joined(separator: ",")
    /// The calibrator's compacted topic of daily closes.
    public var riskFactorsTopic = "margin.riskfactors.v1"
    /// The calibrator recalibrates at least this often (market time; 0: only on new days and moves).
    public var intervalMs: Int64 = 6 * 3_600_000
    /// Relative EWMA volatility move that triggers a recalibration.
    public var volMoveThreshold = 0.25

    public init() {}

    /// The validated model settings.
    public func modelSettings() throws(MarginError) -> RiskModelSettings {
        var s = RiskModelSettings()
        s.lambda = lambda
        s.volatilityModel = try VolatilityModel(label: volatilityModel)
        s.maxRevolatilisation = maxRevolatilisation > 0 ? maxRevolatilisation : nil
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
