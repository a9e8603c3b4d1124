/// Settings of the dynamic risk model's calibration — the one source of their defaults (the CLI,
/// the worker's `calibration:` settings and the calibrator read them from here). Defaults and their
/// sources:
///
/// - `lambda` 0.94: RiskMetrics daily decay (J.P. Morgan/Reuters, RiskMetrics Technical Document, 1996).
/// - `horizonDays` 2: the margin period of risk EMIR RTS 153/2013 Art. 26 sets for exchange-traded
///   derivatives (at least two days).
/// - `confidence` 0.99: EMIR RTS 153/2013 Art. 24 (99 % for exchange-traded derivatives).
/// - `lookbackDays` 0 (all available history, at least a year including a stress period: Art. 25).
/// - APC: EMIR RTS 153/2013 Art. 28(1): (a) a buffer of at least 25 % that may be run down when
///   requirements rise, (b) at least 25 % weight on stressed observations, (c) a floor from a
///   10-year lookback. Default (a): on the bundled BTC and ETH history it costs 14–18 % of the mean
///   perpetual margin, where (b)+(c) cost 28–46 % (`backtest`, docs/backtesting.md).
/// - `volatilityModel` HAR, `maxRevolatilisation` 2, `maxStep` 0.05: chosen by `backtest
///   --vol-models` on the bundled history — the lowest out-of-sample QLIKE among the models whose
///   perpetuals meet the coverage rules (GJR-GARCH forecasts ETH best but under-covers the BTC long
///   perpetual); the bound halves the largest 5-day rise of a perpetual's IM without losing coverage
///   and still lets a calibrated perpetual's margin follow its market (1.27× from October 2023 to
///   June 2022); the phase-in step keeps the rise of a long perpetual's IM near 50 % in five days
///   (docs, *Backtesting*).
/// - `priceRangeFloor` 0.05: the grid's price range never goes below ±5 %, whatever the calm.
public struct RiskModelSettings: Sendable, Hashable {
    /// Which anti-procyclicality measures apply (EMIR RTS 153/2013 Art. 28).
    public struct AntiProcyclicality: Sendable, Hashable {
        /// (a) Margin buffer of `bufferFraction`, run down when calibrated values rise.
        public var buffer: Bool
        /// (b) `σ²_used = (1 − w)·σ²_T + w·σ²_stress` with `w = stressWeight`.
        public var stressWeight: Bool
        /// (c) Floor at the 10-year (`floorLookbackDays`) lookback's values.
        public var floor: Bool

        public init(buffer: Bool = false, stressWeight: Bool = true, floor: Bool = true) {
            self.buffer = buffer
            self.stressWeight = stressWeight
            self.floor = floor
        }

        public static let none = AntiProcyclicality(buffer: false, stressWeight: false, floor: false)
        /// EMIR Art. 28(1)(a): the 25 % buffer.
        public static let standard = AntiProcyclicality(buffer: true, stressWeight: false, floor: false)

        /// `buffer`, `stress-weight`, `floor`, joined with `+`, or `none`.
        public var label: String {
            let parts = [buffer ? "buffer" : nil, stressWeight ? "stress-weight" : nil, floor ? "floor" : nil].compactMap { $0 }
            return parts.isEmpty ? "none" : parts.joined(separator: "+")
        }

        /// Parses `buffer`, `stress-weight`, `floor`, `none`, or several joined by `+` or `,`.
        public init(label: String) throws(MarginError) {
            self = .none
            for part in label.split(whereSeparator: { $0 == "+" || $0 == "," }).map({ $0.lowercased() }) {
                switch part {
                case "buffer", "a": buffer = true
                case "stress-weight", "stress", "b": stressWeight = true
                case "floor", "c": floor = true
                case "none": break
                default: throw .invalidInput(field: "apc", reason: "unknown option `\(part)` (buffer, stress-weight, floor, none)")
                }
            }
        }
    }

    public var lambda: Double = EWMAVariance.riskMetricsLambda
    /// The conditional-variance model that filters the returns (``VolatilityModel``).
    public var volatilityModel: VolatilityModel = .har
    /// Returns a model is fitted on (the most recent; 0: all). GJR-GARCH and HAR only.
    public var fitWindowDays: Int = 2_000
    /// Upper bound of the revolatilisation factor `σ_applied/σ_d` of one day's return (nil: none).
    public var maxRevolatilisation: Double? = 2
    /// How often (days) a daily backtest refits the volatility model; a live or one-off calibration
    /// fits it every time.
    public var refitDays: Int = 20
    public var horizonDays: Int = 2
    public var confidence: Double = 0.99
    /// Scenario dates to keep, most recent first; 0 keeps every date with a filtered return.
    public var lookbackDays: Int = 0
    /// Returns used to seed the EWMA recursion; no scenario is drawn from them.
    public var seedReturns: Int = 30
    public var apc = AntiProcyclicality.standard
    public var bufferFraction: Double = 0.25
    public var stressWeight: Double = 0.25
    /// Window of the rolling volatility whose maximum is σ_stress (days).
    public var stressWindowDays: Int = 250
    /// Lookback of the APC floor (days): 10 years.
    public var floorLookbackDays: Int = 3650
    /// Largest relative change of a calibrated value from one day to the next (phase-in).
    public var maxStep: Double = 0.05
    /// Minimum grid price range per underlying; the key `*` applies to the others.
    public var priceRangeFloor: [String: Double] = ["*": 0.05]
    public var measure: HistoricalScenarioSet.Measure = .expectedShortfall
    public var volatilityTreatment: HistoricalScenarioSet.VolatilityTreatment = .worstOfGrid
    public var combination: HistoricalScenarioSet.Combination = .maximum
    /// The grid's decorrelation factor `d` written into calibrated parameter sets.
    public var decorrelation: Double = 0.5

    public init() {}

    /// Parses `0.05` (every underlying) or `BTC=0.06,ETH=0.08` (`*` for the rest).
    public static func priceRangeFloor(label: String) throws(MarginError) -> [String: Double] {
        var floors: [String: Double] = [:]
        for item in label.filter({ !$0.isWhitespace }).split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard let text = parts.last, let value = Double(text) else {
                throw .invalidInput(field: "price_range_floor", reason: "`\(item)` is not a number")
            }
            floors[parts.count == 2 ? String(parts[0]) : "*"] = value
        }
        guard !floors.isEmpty else { throw .invalidInput(field: "price_range_floor", reason: "empty") }
        return floors
    }

    /// A price-range floor as text that ``priceRangeFloor(label:)`` reads back.
    public static func priceRangeFloorLabel(_ priceRangeFloor: [String: Double]) -> String {
        priceRangeFloor.sorted { $0.key < $1.key }.map { $0.key == "*" ? String($0.value) : "\($0.key)=\($0.value)" }
            .joined(separator: ",")
    }

    public func priceRangeFloor(for underlying: String) -> Double {
        priceRangeFloor[underlying] ?? priceRangeFloor["*"] ?? 0
    }

    public func validate() throws(MarginError) {
        _ = try EWMAVariance(lambda: lambda, seedCount: seedReturns)
        guard fitWindowDays >= 0 else { throw .invalidInput(field: "fit_window_days", reason: "must be ≥ 0") }
        guard refitDays >= 1 else { throw .invalidInput(field: "refit_days", reason: "must be ≥ 1") }
        if let bound = maxRevolatilisation, !(bound.isFinite && bound >= 1) {
            throw .invalidInput(field: "max_revolatilisation", reason: "must be a finite number ≥ 1, got \(bound)")
        }
        guard horizonDays >= 1, horizonDays <= 30 else { throw .invalidInput(field: "horizon_days", reason: "must lie in [1, 30]") }
        guard confidence > 0.5, confidence < 1 else { throw .invalidInput(field: "confidence", reason: "must lie in (0.5, 1)") }
        guard lookbackDays >= 0 else { throw .invalidInput(field: "lookback_days", reason: "must be ≥ 0") }
        for (name, value) in [("buffer_fraction", bufferFraction), ("stress_weight", stressWeight), ("max_step", maxStep), ("decorrelation", decorrelation)] {
            guard value.isFinite, value >= 0, value <= 1 else { throw .invalidInput(field: name, reason: "must lie in [0, 1], got \(value)") }
        }
        if apc.buffer, bufferFraction < 0.25 { throw .invalidInput(field: "buffer_fraction", reason: "EMIR Art. 28(1)(a) asks for at least 25 %") }
        if apc.stressWeight, stressWeight < 0.25 { throw .invalidInput(field: "stress_weight", reason: "EMIR Art. 28(1)(b) asks for at least 25 %") }
        guard stressWindowDays >= 20, floorLookbackDays >= stressWindowDays else {
            throw .invalidInput(field: "stress_window_days", reason: "must be ≥ 20 and ≤ floor_lookback_days")
        }
        for (underlying, floor) in priceRangeFloor where !(floor.isFinite && floor >= 0 && floor < 1) {
            throw .invalidInput(field: "price_range_floor[\(underlying)]", reason: "must lie in [0, 1), got \(floor)")
        }
    }
}
