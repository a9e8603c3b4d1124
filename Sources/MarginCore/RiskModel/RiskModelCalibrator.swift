/// Calibrates the dynamic risk model from price histories: the filtered-historical-simulation
/// scenario set and the grid's price range per underlying, with anti-procyclicality (APC) and
/// phase-in. Pure and deterministic: the same history and settings give the same result.
///
/// Per underlying `u`, on **its own whole history** up to the calibration day (so that adding or
/// removing another coin changes nothing of `u`'s figures), with daily log returns `r_d` and the
/// volatility model's forecasts `σ²_d` (``VolatilityModel``, ``RiskModelSettings/volatilityModel``):
/// 1. filter `r̃_d = r_d · min(σ_used/σ_d, B)`: devolatilised by its own forecast σ_d and
///    revolatilised to the σ used today (2.), the factor bounded by `B`
///    (``RiskModelSettings/maxRevolatilisation``), so that a day of calm history is never blown up
///    more than `B` times (Barone-Adesi, Giannopoulos & Vosper 1999,
///    "VaR without correlations for portfolios of derivative securities"; the unbounded factor is
///    what produces scenarios beyond anything observed, Gurrola-Perez & Murphy 2015, Bank of England
///    Working Paper 525); h-day scenarios are overlapping sums of h consecutive `r̃_d`, dated by their
///    first day;
/// 2. `σ_used` is today's forecast `σ_T`, or with APC (b) `√(0.75σ²_T + 0.25σ²_stress)` (σ_stress the
///    largest rolling `stressWindowDays` volatility in the lookback, and at least σ_T itself, so that
///    APC never margins below the plain model), with APC (c) at least the
///    volatility of the last 10 years, with APC (a) held within `[σ, 1.25σ]` of yesterday's value
///    (a 25 % buffer that rises are allowed to consume), and with a previous calibration never more
///    than `maxStep` away from it per day (phase-in);
/// 3. the grid price range is `max(floor_u, quantile_α(|r̃_h|))` over u's own h-day scenarios, a
///    quantile of |log return| (the grid applies it as `e^(−q) − 1` down and `e^q − 1` up), with
///    APC (c) also at least the unfiltered 10-year quantile of |h-day returns|, phased in like σ.
/// The **joint** scenario set (one h-day log return per underlying per date, so that correlation is
/// carried) uses the dates every history shares, each underlying's return on a date filtered as in 1;
/// where the history has ATM implied volatility for every window, each scenario also carries the
/// vol's relative change over its window (`HistoricalScenarioSet/volatilityMultipliers`).
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
        /// Today's forecast σ_T of the volatility model.
        public var forecastVolatility: Double
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
        /// First and last UTC day of the joint (common-date) history used.
        public var fromDay: Int
        public var toDay: Int
        /// Each underlying's own history used: first and last UTC day.
        public var histories: [String: ClosedRange<Int>] = [:]
        /// Each underlying's fitted volatility model.
        public var fits: [String: VolatilityFit] = [:]

        public func state(for underlying: String) -> State? {
            underlyings[underlying].map { State(day: toDay, appliedVolatility: $0.appliedVolatility, priceRange: $0.priceRange) }
        }
    }

    /// One underlying's own history up to the calibration day, filtered by its volatility model.
    struct Filtered {
        /// Days of the history (`days[i + 1]` dates `returns[i]`).
        var days: [Int]
        var returns: [Double]
        /// `forecasts[i]` for `returns[i]`; the last one is σ²_T.
        var forecasts: [Double]
        var fit: VolatilityFit

        /// The index of the return dated `day`, if the history has it.
        func returnIndex(dated day: Int) -> Int? {
            var lo = 1, hi = days.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if days[mid] < day { lo = mid + 1 } else { hi = mid }
            }
            return lo < days.count && days[lo] == day ? lo - 1 : nil
        }
    }

    /// Filters each underlying's own history through `day` (fitting its volatility model unless
    /// `fits` has one for it).
    func filter(_ history: JointHistory, through day: Int, fits: [String: VolatilityFit]) throws(MarginError) -> [Filtered] {
        let s = settings
        let minimum = s.seedReturns + s.horizonDays + 1
        var result: [Filtered] = []
        for full in history.histories {
            let own = full.truncated(through: day)
            let returns = own.count < 2 ? [] : (1..<own.count).map { CMath.log(own.closes[$0] / own.closes[$0 - 1]) }
            guard returns.count >= minimum else {
                throw .invalidInput(field: "history[\(full.underlying)]", reason: "\(returns.count) daily returns up to \(UTCDay.format(day)); at least \(minimum) needed")
            }
            let fit: VolatilityFit
            if let given = fits[full.underlying] {
                fit = given
            } else {
                fit = try s.volatilityModel.fit(returns, lambda: s.lambda, seedCount: s.seedReturns, window: s.fitWindowDays)
            }
            result.append(Filtered(days: own.days, returns: returns, forecasts: fit.forecasts(returns), fit: fit))
        }
        return result
    }

    /// Calibrates on `history` up to and including `asOfDay` (default: its last common day). `fits`
    /// supplies already fitted volatility models per underlying (the backtest refits them every
    /// ``RiskModelSettings/refitDays``); the others are fitted here.
    public func calibrate(_ history: JointHistory, asOfDay: Int? = nil, previous: [String: State] = [:],
                          fits: [String: VolatilityFit] = [:]) throws(MarginError) -> Result {
        let s = settings
        let end = asOfDay.map { day in history.days.lastIndex { $0 <= day } ?? -1 } ?? history.days.count - 1
        let minimum = s.seedReturns + s.horizonDays + 1
        guard end >= minimum else {
            throw .invalidInput(field: "history", reason: "\(max(end, 0)) common daily returns up to \(UTCDay.format(asOfDay ?? history.days.last ?? 0)); at least \(minimum) needed")
        }
        let calibrationDay = history.days[end]
        let filtered = try filter(history, through: calibrationDay, fits: fits)
        let h = s.horizonDays
        let bound = s.maxRevolatilisation ?? .infinity

        var calibrations: [String: UnderlyingCalibration] = [:]
        var applied: [Double] = []
        for (u, underlying) in history.underlyings.enumerated() {
            let f = filtered[u]
            let returns = f.returns, forecasts = f.forecasts
            let count = returns.count
            let sigmaT = forecasts[count].squareRoot()
            // The underlying's own scenario windows (most recent `lookbackDays`).
            let first = s.seedReturns
            let windows = count - h + 1 - first
            let keep = s.lookbackDays > 0 ? min(s.lookbackDays, windows) : windows
            let start = first + windows - keep
            // The current period counts as stressed when it is the most volatile: APC never lowers σ_T.
            let stress = max(Self.maximumRollingVolatility(returns, window: s.stressWindowDays, from: start), sigmaT)
            let floorFrom = max(0, count - s.floorLookbackDays)
            let floorVolatility = Self.rootMeanSquare(returns[floorFrom...])

            var target = sigmaT
            if s.apc.stressWeight { target = ((1 - s.stressWeight) * sigmaT * sigmaT + s.stressWeight * stress * stress).squareRoot() }
            if s.apc.floor { target = max(target, floorVolatility) }
            let before = previous[underlying]
            let elapsed = Double(max(1, before.map { calibrationDay - $0.day } ?? 1))
            var bufferRemaining = 0.0
            if s.apc.buffer {
                let upper = target * (1 + s.bufferFraction)
                let buffered = before.map { min(max($0.appliedVolatility, target), upper) } ?? upper
                bufferRemaining = (buffered - target) / target
                target = buffered
            }
            var phasedIn = false
            let used = Self.phaseIn(target, previous: before?.appliedVolatility, maxStep: s.maxStep, days: elapsed, held: &phasedIn)
            applied.append(used)

            func windowSums(_ sigma: Double) -> [Double] {
                (0..<keep).map { w in
                    var sum = 0.0
                    for j in 0..<h {
                        let d = start + w + j
                        sum += returns[d] * Self.revolatilisation(to: sigma, day: forecasts[d].squareRoot(), bound: bound)
                    }
                    return sum
                }
            }
            let floorRange = s.priceRangeFloor(for: underlying)
            var targetRange = max(floorRange, Self.quantile(windowSums(used).map(abs), s.confidence))
            if s.apc.floor {
                var raw: [Double] = []
                let rawStart = max(0, count - s.floorLookbackDays)
                if count - rawStart >= h {
                    for i in rawStart...(count - h) { raw.append(abs(returns[i..<(i + h)].reduce(0, +))) }
                    targetRange = max(targetRange, Self.quantile(raw, s.confidence))
                }
            }
            let rangeWithoutAPC = max(floorRange, Self.quantile(windowSums(sigmaT).map(abs), s.confidence))
            let range = Self.phaseIn(targetRange, previous: before?.priceRange, maxStep: s.maxStep, days: elapsed, held: &phasedIn)
            calibrations[underlying] = UnderlyingCalibration(
                underlying: underlying, forecastVolatility: sigmaT, stressVolatility: stress, floorVolatility: floorVolatility,
                appliedVolatility: used, targetPriceRange: targetRange, priceRangeWithoutAPC: rangeWithoutAPC, priceRange: range,
                bufferRemaining: bufferRemaining, phasedIn: phasedIn)
        }

        // The joint set: windows of h consecutive common days, every underlying's return on each day
        // filtered as above; the first windows wait until every model is seeded.
        let commonReturns = end   // returns dated days[1...end]
        var indices = [[Int]](repeating: [], count: history.underlyings.count)
        var firstUsable = 0
        for u in history.underlyings.indices {
            indices[u] = (1...end).map { filtered[u].returnIndex(dated: history.days[$0]) ?? -1 }
            let seeded = indices[u].firstIndex { $0 >= s.seedReturns } ?? commonReturns
            firstUsable = max(firstUsable, seeded)
        }
        let jointWindows = max(0, commonReturns - h + 1 - firstUsable)
        let keep = s.lookbackDays > 0 ? min(s.lookbackDays, jointWindows) : jointWindows
        guard keep > 0 else {
            throw .invalidInput(field: "history", reason: "the histories share no \(h)-day window after \(s.seedReturns) seed returns up to \(UTCDay.format(calibrationDay))")
        }
        let start = firstUsable + jointWindows - keep
        let labels = (start..<(start + keep)).map { UTCDay.format(history.days[$0 + 1]) }
        var logReturns: [String: [Double]] = [:]
        var volatilityMultipliers: [String: [Double]] = [:]
        for (u, underlying) in history.underlyings.enumerated() {
            let f = filtered[u]
            logReturns[underlying] = (0..<keep).map { w in
                var sum = 0.0
                for j in 0..<h {
                    let i = indices[u][start + w + j]
                    sum += f.returns[i] * Self.revolatilisation(to: applied[u], day: f.forecasts[i].squareRoot(), bound: bound)
                }
                return sum
            }
            // Implied-volatility history, when every window has it at both ends: the ATM vol's move.
            let vols = history.atmVolatility[u]
            let windowVols = (0..<keep).map { w -> Double? in
                guard let from = vols[start + w], let to = vols[start + w + h], from > 0 else { return nil }
                return to / from
            }
            if windowVols.allSatisfy({ $0 != nil }) { volatilityMultipliers[underlying] = windowVols.map { $0! } }
        }
        let set = HistoricalScenarioSet(
            source: .historical, measure: s.measure, confidence: s.confidence, horizonDays: h,
            volatilityTreatment: s.volatilityTreatment, combination: s.combination, labels: labels, logReturns: logReturns,
            volatilityMultipliers: volatilityMultipliers)
        var histories: [String: ClosedRange<Int>] = [:]
        var fitted: [String: VolatilityFit] = [:]
        for (u, underlying) in history.underlyings.enumerated() {
            histories[underlying] = filtered[u].days[0]...filtered[u].days[filtered[u].days.count - 1]
            fitted[underlying] = filtered[u].fit
        }
        return Result(scenarios: set, underlyings: calibrations, fromDay: history.days[0], toDay: calibrationDay,
                      histories: histories, fits: fitted)
    }
}
