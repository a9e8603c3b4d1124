/// The live calibrator's state, fed by index snapshots: daily closes per underlying (a seed history
/// plus the closes the stream finalises), an intraday EWMA variance, and when to recalibrate.
/// Pure: the Kafka role (`margin-engine calibrator`) feeds it and publishes what it returns.
///
/// - A snapshot on a later UTC day than the underlying's previous one finalises the previous day's
///   close (its last index price), which the caller appends to the risk-factor topic.
/// - The live EWMA variance is the daily forecast the day would give if it closed now:
///   `λ·σ²_{T−1} + (1 − λ)·r²_today`, with `σ²_{T−1}` the forecast from the closes before today and
///   `r_today` the log return from the last close to the latest index price (daily units).
/// - A calibration uses the closes of the days before the current market day plus today's latest
///   price as a provisional close (so a crash under way enters the returns), never a later day.
/// - It is due on a new market day (the schedule), when an underlying's intraday volatility moved by
///   more than `volatilityMoveThreshold` from the last calibration's, or every `intervalMs`.
public struct LiveCalibration: Sendable {
    public struct Settings: Sendable, Hashable {
        /// Recalibrate at least this often (market time); 0 disables.
        public var intervalMs: Int64 = 6 * 3_600_000
        /// Relative change of an underlying's intraday EWMA volatility that triggers a recalibration.
        public var volatilityMoveThreshold = 0.25
        /// Never recalibrate more often than this (market time).
        public var minimumIntervalMs: Int64 = 1_000

        public init() {}
    }

    /// Why a calibration is due.
    public enum Reason: Sendable, Hashable, CustomStringConvertible {
        case initial
        case newDay(Int)
        case volatilityMove(underlying: String, from: Double, to: Double)
        /// An underlying with a calibratable history seen for the first time since the last calibration.
        case firstSnapshot(underlying: String)
        case interval

        public var description: String {
            switch self {
            case .initial: return "initial"
            case .newDay(let day): return "new day \(UTCDay.format(day))"
            case .volatilityMove(let u, let from, let to): return "\(u) EWMA vol \(formatShort(from * 100))% → \(formatShort(to * 100))%"
            case .firstSnapshot(let u): return "first snapshot of \(u)"
            case .interval: return "interval"
            }
        }
    }

    struct Intraday: Sendable {
        var lastMs: Int64
        var lastPrice: Double
        /// The forecast from the closes before `day`, and the last of those closes.
        var day: Int
        var priorVariance: Double
        var priorClose: Double?
    }

    /// Days of closes an underlying needs to be calibrated (a year of returns, as EMIR Art. 25 asks).
    public static let minimumHistoryDays = 366

    public let settings: Settings
    public let lambda: Double
    let ewma: EWMAVariance
    private(set) var closes: [String: [Int: Double]] = [:]
    private(set) var intraday: [String: Intraday] = [:]
    private var lastCalibrationMs: Int64?
    private var lastCalibrationDay: Int?
    private var calibratedVolatility: [String: Double] = [:]
    /// The volatility fits in use, and the market day they were made.
    private var fits: [String: VolatilityFit] = [:]
    private var fitDay: Int?

    public init(settings: Settings = Settings(), lambda: Double = EWMAVariance.riskMetricsLambda) throws(MarginError) {
        guard settings.volatilityMoveThreshold.isFinite, settings.volatilityMoveThreshold > 0 else {
            throw .invalidInput(field: "volatility_move_threshold", reason: "must be a positive number")
        }
        guard settings.intervalMs >= 0, settings.minimumIntervalMs >= 0 else { throw .invalidInput(field: "interval_ms", reason: "must be ≥ 0") }
        self.settings = settings
        self.lambda = lambda
        self.ewma = try EWMAVariance(lambda: lambda)
    }

    /// The latest market time seen (Unix ms), if any.
    public var nowMs: Int64? { intraday.values.map(\.lastMs).max() }

    /// Adds closes from a seed history or the risk-factor topic (a later record for a day replaces it).
    public mutating func record(underlying: String, day: Int, close: Double) {
        guard close.isFinite, close > 0 else { return }
        closes[underlying, default: [:]][day] = close
    }

    public mutating func seed(_ history: PriceHistory) {
        for (day, close) in zip(history.days, history.closes) { record(underlying: history.underlying, day: day, close: close) }
    }

    /// Observes an index price; returns the close it finalised, if the snapshot opened a new day.
    public mutating func observe(underlying: String, timestampMs: Int64, price: Double) -> (day: Int, close: Double)? {
        guard price.isFinite, price > 0 else { return nil }
        let day = UTCDay.day(ofUnixMs: timestampMs)
        guard var state = intraday[underlying] else {
            let prior = priorForecast(underlying, before: day)
            intraday[underlying] = Intraday(lastMs: timestampMs, lastPrice: price, day: day, priorVariance: prior.variance, priorClose: prior.close)
            return nil
        }
        guard timestampMs > state.lastMs else { return nil }
        var finalised: (day: Int, close: Double)?
        if day > state.day {
            finalised = (state.day, state.lastPrice)
            record(underlying: underlying, day: state.day, close: state.lastPrice)
            let prior = priorForecast(underlying, before: day)
            state.day = day
            state.priorVariance = prior.variance
            state.priorClose = prior.close
        }
        state.lastMs = timestampMs
        state.lastPrice = price
        intraday[underlying] = state
        return finalised
    }

    /// The live EWMA volatility (daily units) of an underlying: the forecast if the day closed now.
    public func volatility(of underlying: String) -> Double? {
        guard let state = intraday[underlying] else { return nil }
        let r = state.priorClose.map { CMath.log(state.lastPrice / $0) } ?? 0
        return (lambda * state.priorVariance + (1 - lambda) * r * r).squareRoot()
    }

    /// Whether (and why) a calibration is due at the latest market time.
    public func due() -> Reason? {
        guard let now = nowMs else { return nil }
        guard let last = lastCalibrationMs else { return .initial }
        guard now - last >= settings.minimumIntervalMs else { return nil }
        let today = UTCDay.day(ofUnixMs: now)
        if let day = lastCalibrationDay, today > day { return .newDay(today) }
        for underlying in intraday.keys.sorted() {
            guard let before = calibratedVolatility[underlying], before > 0 else {
                // No baseline yet: calibrate with its first snapshot (then its moves are tracked).
                if (closes[underlying]?.count ?? 0) >= Self.minimumHistoryDays { return .firstSnapshot(underlying: underlying) }
                continue
            }
            guard let vol = volatility(of: underlying) else { continue }
            if abs(vol / before - 1) > settings.volatilityMoveThreshold { return .volatilityMove(underlying: underlying, from: before * 365.0.squareRoot(), to: vol * 365.0.squareRoot()) }
        }
        if settings.intervalMs > 0, now - last >= settings.intervalMs { return .interval }
        return nil
    }

    /// The joint history a calibration uses now: closes before today plus today's latest prices.
    public func history() throws(MarginError) -> JointHistory {
        guard let now = nowMs else { throw .invalidInput(field: "calibrator", reason: "no index snapshot seen yet") }
        let today = UTCDay.day(ofUnixMs: now)
        var histories: [PriceHistory] = []
        for (underlying, byDay) in closes.sorted(by: { $0.key < $1.key }) {
            var days = byDay.keys.filter { $0 < today }.sorted()
            var values = days.map { byDay[$0]! }
            if let live = intraday[underlying], UTCDay.day(ofUnixMs: live.lastMs) == today {
                days.append(today)
                values.append(live.lastPrice)
            }
            // Only underlyings with a real history (not, say, a stablecoin seen for a day).
            guard days.count >= Self.minimumHistoryDays else { continue }
            histories.append(try PriceHistory(underlying: underlying, days: days, closes: values))
        }
        return try JointHistory(histories)
    }

    /// Calibrates on ``history()`` and records it as the last calibration. The volatility models
    /// are refitted at the first calibration of a market day at least
    /// ``RiskModelSettings/refitDays`` after the last fit (as the backtest does); calibrations in
    /// between, intraday ones after a crash among them, filter with the same fit, so that a crash
    /// moves today's forecast and the scenarios without re-estimating the whole history's.
    public mutating func calibrate(with calibrator: RiskModelCalibrator, previous: [String: RiskModelCalibrator.State]) throws(MarginError) -> RiskModelCalibrator.Result {
        let today = nowMs.map { UTCDay.day(ofUnixMs: $0) } ?? 0
        if let day = fitDay, today - day >= calibrator.settings.refitDays { fits = [:] }
        let result = try calibrator.calibrate(try history(), previous: previous, fits: fits)
        if fits.isEmpty || result.fits.keys.contains(where: { fits[$0] == nil }) {
            if fits.isEmpty { fitDay = today }
            fits = result.fits
        }
        lastCalibrationMs = nowMs
        lastCalibrationDay = nowMs.map { UTCDay.day(ofUnixMs: $0) }
        for underlying in result.underlyings.keys { calibratedVolatility[underlying] = volatility(of: underlying) }
        return result
    }

    /// The daily EWMA forecast from the closes before `day`, and the last of them.
    func priorForecast(_ underlying: String, before day: Int) -> (variance: Double, close: Double?) {
        guard let byDay = closes[underlying] else { return (1e-4, nil) }
        let series = byDay.keys.filter { $0 < day }.sorted().map { byDay[$0]! }
        guard series.count > 2 else { return (1e-4, series.last) }
        let returns = (1..<series.count).map { CMath.log(series[$0] / series[$0 - 1]) }
        return (ewma.forecasts(returns).last ?? 1e-4, series.last)
    }
}
