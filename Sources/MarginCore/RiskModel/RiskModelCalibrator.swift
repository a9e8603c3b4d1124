/// Calibrates the dynamic risk model from a joint price history: the filtered-historical-simulation
/// scenario set and the grid's price range per underlying, with anti-procyclicality (APC) and
/// phase-in. Pure and deterministic: the same history and settings give the same result.
///
/// Per underlying `u`, with daily log returns `r_d` and EWMA forecasts `σ²_d` (``EWMAVariance``):
/// 1. devolatilise `z_d = r_d / σ_d` and revolatilise `r̃_d = z_d · σ_used` (Barone-Adesi,
///    Giannopoulos & Vosper 1999, "VaR without correlations for portfolios of derivative securities");
///    h-day scenarios are overlapping sums of h consecutive `r̃_d`, dated by their first day;
/// 2. `σ_used` is today's forecast `σ_T`, or with APC (b) `√(0.75σ²_T + 0.25σ²_stress)` (σ_stress the
///    largest rolling `stressWindowDays` volatility in the lookback, and at least σ_T itself, so that
///    APC never margins below the plain model), with APC (c) at least the
///    volatility of the last 10 years, with APC (a) held within `[σ, 1.25σ]` of yesterday's value
///    (a 25 % buffer that rises are allowed to consume), and with a previous calibration never more
///    than `maxStep` away from it per day (phase-in);
/// 3. where the history has ATM implied volatility for every scenario window, each scenario also
///    carries the vol's relative change over its window (`HistoricalScenarioSet/volatilityMultipliers`);
/// 4. the grid price range is `max(floor_u, quantile_α(|r̃_h|))`, with APC (c) also at least the
///    unfiltered 10-year quantile of |h-day returns|, phased in like σ.
public struct RiskModelCalibrator: Sendable {
    public let settings: RiskModelSettings

    public init(settings: RiskModelSettings = RiskModelSettings()) throws(MarginError) {
        try settings.validate()
        self.settings = settings
    }

    /// What one calibration found for one underlying. Volatilities are daily (multiply by √365
    /// for an annual figure); ranges are fractions (0.16 = ±16 %).
    public struct UnderlyingCalibration: Sendable, Hashable {
        public var underlying: String
        /// Today's EWMA forecast σ_T.
        public var ewmaVolatility: Double
        /// The largest rolling-window volatility in the lookback.
        public var stressVolatility: Double
        /// The volatility of the APC floor's lookback.
        public var floorVolatility: Double
        /// The volatility the scenarios are revolatilised to (after APC and phase-in).
        public var appliedVolatility: Double
        /// The grid price range before phase-in, with and without APC.
        public var targetPriceRange: Double
        public var priceRangeWithoutAPC: Double
        /// The price range written into the parameters (after phase-in).
        public var priceRange: Double
        /// The buffer (a) not consumed, as a fraction of the calibrated value (0 without the buffer).
        public var bufferRemaining: Double
        /// Whether phase-in held the range or the volatility back from its target.
        public var phasedIn: Bool

        /// How much APC added to the range: `priceRange / priceRangeWithoutAPC − 1`.
        public var apcAddOn: Double { priceRangeWithoutAPC > 0 ? priceRange / priceRangeWithoutAPC - 1 : 0 }
    }

    /// The part of yesterday's calibration that today's depends on (APC buffer, phase-in).
    public struct State: Sendable, Hashable {
        public var day: Int
        public var appliedVolatility: Double
        public var priceRange: Double

        public init(day: Int, appliedVolatility: Double, priceRange: Double) {
            self.day = day
            self.appliedVolatility = appliedVolatility
            self.priceRange = priceRange
        }
    }

    public struct Result: Sendable, Hashable {
        public var scenarios: HistoricalScenarioSet
        public var underlyings: [String: UnderlyingCalibration]
        /// First and last UTC day of the history used.
        public var fromDay: Int
        public var toDay: Int

        public func state(for underlying: String) -> State? {
            underlyings[underlying].map { State(day: toDay, appliedVolatility: $0.appliedVolatility, priceRange: $0.priceRange) }
        }
    }

    /// Calibrates on `history` up to and including `asOfDay` (default: its last day).
    public func calibrate(_ history: JointHistory, asOfDay: Int? = nil, previous: [String: State] = [:]) throws(MarginError) -> Result {
        let s = settings
        let end = asOfDay.map { day in history.days.lastIndex { $0 <= day } ?? -1 } ?? history.days.count - 1
        let returnCount = end   // returns 0..<end end on days[1...end]
        let minimum = s.seedReturns + s.horizonDays + 1
        guard returnCount >= minimum else {
            throw .invalidInput(field: "history", reason: "\(max(returnCount, 0)) daily returns up to \(UTCDay.format(asOfDay ?? history.days.last ?? 0)); at least \(minimum) needed")
        }
        let ewma = try EWMAVariance(lambda: s.lambda, seedCount: s.seedReturns)
        let h = s.horizonDays
        // Scenario windows start at returns first..<last (inclusive of the last full window).
        let first = s.seedReturns
        let windows = returnCount - h + 1 - first
        let keep = s.lookbackDays > 0 ? min(s.lookbackDays, windows) : windows
        let start = first + windows - keep
        let labels = (start..<(start + keep)).map { UTCDay.format(history.days[$0 + 1]) }

        var logReturns: [String: [Double]] = [:]
        var volatilityMultipliers: [String: [Double]] = [:]
        var calibrations: [String: UnderlyingCalibration] = [:]
        for (u, underlying) in history.underlyings.enumerated() {
            let closes = history.closes[u]
            var returns = [Double](repeating: 0, count: returnCount)
            for i in 0..<returnCount { returns[i] = CMath.log(closes[i + 1] / closes[i]) }
            let forecasts = ewma.forecasts(returns)
            let sigmaT = forecasts[returnCount].squareRoot()
            // Devolatilised h-day sums z_h (in units of σ).
            var zWindows = [Double](repeating: 0, count: keep)
            for w in 0..<keep {
                var sum = 0.0
                for j in 0..<h { sum += returns[start + w + j] / forecasts[start + w + j].squareRoot() }
                zWindows[w] = sum
            }
            // The current period counts as stressed when it is the most volatile: APC never lowers σ_T.
            let stress = max(Self.maximumRollingVolatility(returns, window: s.stressWindowDays, from: start), sigmaT)
            let floorFrom = max(0, returnCount - s.floorLookbackDays)
            let floorVolatility = Self.rootMeanSquare(returns[floorFrom...])

            var target = sigmaT
            if s.apc.stressWeight { target = ((1 - s.stressWeight) * sigmaT * sigmaT + s.stressWeight * stress * stress).squareRoot() }
            if s.apc.floor { target = max(target, floorVolatility) }
            let before = previous[underlying]
            let elapsed = Double(max(1, before.map { history.days[end] - $0.day } ?? 1))
            var bufferRemaining = 0.0
            if s.apc.buffer {
                let upper = target * (1 + s.bufferFraction)
                let buffered = before.map { min(max($0.appliedVolatility, target), upper) } ?? upper
                bufferRemaining = (buffered - target) / target
                target = buffered
            }
            var phasedIn = false
            let applied = Self.phaseIn(target, previous: before?.appliedVolatility, maxStep: s.maxStep, days: elapsed, held: &phasedIn)

            let quantileZ = Self.quantile(zWindows.map(abs), s.confidence)
            let floorRange = s.priceRangeFloor(for: underlying)
            var targetRange = max(floorRange, applied * quantileZ)
            if s.apc.floor {
                var raw: [Double] = []
                let rawStart = max(0, returnCount - s.floorLookbackDays)
                if returnCount - rawStart >= h {
                    for i in rawStart...(returnCount - h) { raw.append(abs(returns[i..<(i + h)].reduce(0, +))) }
                    targetRange = max(targetRange, Self.quantile(raw, s.confidence))
                }
            }
            let rangeWithoutAPC = max(floorRange, sigmaT * quantileZ)
            let range = Self.phaseIn(targetRange, previous: before?.priceRange, maxStep: s.maxStep, days: elapsed, held: &phasedIn)
            logReturns[underlying] = zWindows.map { $0 * applied }
            // Implied-volatility history, when every window has it at both ends: the ATM vol's move.
            let vols = history.atmVolatility[u]
            let windowVols = (0..<keep).map { w -> Double? in
                guard let from = vols[start + w], let to = vols[start + w + h], from > 0 else { return nil }
                return to / from
            }
            if keep > 0, windowVols.allSatisfy({ $0 != nil }) { volatilityMultipliers[underlying] = windowVols.map { $0! } }
            calibrations[underlying] = UnderlyingCalibration(
                underlying: underlying, ewmaVolatility: sigmaT, stressVolatility: stress, floorVolatility: floorVolatility,
                appliedVolatility: applied, targetPriceRange: targetRange, priceRangeWithoutAPC: rangeWithoutAPC, priceRange: range,
                bufferRemaining: bufferRemaining, phasedIn: phasedIn)
        }
        let set = HistoricalScenarioSet(
            source: .historical, measure: s.measure, confidence: s.confidence, horizonDays: h,
            volatilityTreatment: s.volatilityTreatment, combination: s.combination, labels: labels, logReturns: logReturns,
            volatilityMultipliers: volatilityMultipliers)
        return Result(scenarios: set, underlyings: calibrations, fromDay: history.days[0], toDay: history.days[end])
    }

    /// `value` moved towards from `previous` by at most `maxStep` per day, compounded over `days`.
    static func phaseIn(_ value: Double, previous: Double?, maxStep: Double, days: Double, held: inout Bool) -> Double {
        guard let previous, previous > 0 else { return value }
        let up = previous * CMath.pow(1 + maxStep, days)
        let down = previous * CMath.pow(1 - maxStep, days)
        let result = min(max(value, down), up)
        if result != value { held = true }
        return result
    }

    /// The largest root-mean-square of `window` consecutive returns ending at or after `from`
    /// (zero-mean, as daily returns are); the whole series' when it is shorter than the window.
    static func maximumRollingVolatility(_ returns: [Double], window: Int, from: Int) -> Double {
        guard returns.count > window else { return rootMeanSquare(returns[...]) }
        var prefix = [Double](repeating: 0, count: returns.count + 1)
        for (i, r) in returns.enumerated() { prefix[i + 1] = prefix[i] + r * r }
        var best = 0.0
        for last in max(window, from + 1)...returns.count {
            best = max(best, prefix[last] - prefix[last - window])
        }
        return (best / Double(window)).squareRoot()
    }

    static func rootMeanSquare(_ values: ArraySlice<Double>) -> Double {
        guard !values.isEmpty else { return 0 }
        var sum = 0.0
        for v in values { sum += v * v }
        return (sum / Double(values.count)).squareRoot()
    }

    /// The empirical quantile at `p` (the ⌈n·p⌉-th smallest value, the inverse of the empirical CDF).
    public static func quantile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = min(sorted.count, max(1, Int((Double(sorted.count) * p - 1e-9).rounded(.up))))
        return sorted[rank - 1]
    }
}
