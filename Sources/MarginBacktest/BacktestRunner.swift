import MarginCore

/// Walks the history day by day: calibrates with data up to that day only (no look-ahead, the APC
/// buffer and phase-in carried from the day before), margins every portfolio (IM, MM, the grid's
/// and the FHS loss, with APC and without), and measures the realised loss of the frozen
/// portfolio over the next `horizonDays`, fully revalued. Optionally the same portfolios on the same
/// days under a static parameter set (the baseline), and the whole run under every volatility model.
public struct BacktestRunner: Sendable {
    public struct Configuration: Sendable {
        public var settings: RiskModelSettings
        /// The parameter set whose grid the calibration rescales.
        public var base: RiskParameters
        public var volatility: BacktestVolatilityModel
        /// Days of history before the first backtest day (at least a year of returns).
        public var warmupDays: Int = 365
        public var fromDay: Int?
        public var toDay: Int?
        /// Also margin with a calibration without APC (for the procyclicality comparison).
        public var compareWithoutAPC = true
        /// A static set margining the same portfolios on the same days, as shipped (`--baseline`).
        public var baseline: RiskParameters?
        /// Also run under every ``VolatilityModel`` and score their forecasts (`--vol-models`).
        public var compareVolatilityModels = false
        /// Theta over the margin period: scenarios revalue options `horizonDays` later (`--theta`).
        public var ageOptionsOverHorizon = false

        public init(settings: RiskModelSettings, base: RiskParameters, volatility: BacktestVolatilityModel = BacktestVolatilityModel()) {
            self.settings = settings
            self.base = base
            self.volatility = volatility
        }
    }

    public let history: JointHistory
    public let portfolios: [BacktestPortfolio]
    public let configuration: Configuration

    public init(history: JointHistory, portfolios: [BacktestPortfolio], configuration: Configuration) throws(MarginError) {
        try configuration.settings.validate()
        for portfolio in portfolios {
            for u in portfolio.underlyings where !history.underlyings.contains(u) {
                throw .invalidInput(field: "portfolio \(portfolio.name)", reason: "no price history for \(u) (have \(history.underlyings.joined(separator: ", ")))")
            }
        }
        guard !portfolios.isEmpty else { throw .invalidInput(field: "portfolios", reason: "none given") }
        if let baseline = configuration.baseline {
            try baseline.validate()
            for u in history.underlyings where baseline.riskUnit(for: u) == nil {
                throw .invalidInput(field: "baseline", reason: "parameter set \(baseline.id) has no risk unit for \(u)")
            }
        }
        self.history = history
        self.portfolios = portfolios
        self.configuration = configuration
    }

    /// The day indices the backtest margins on: after the warm-up, within from/to, leaving the horizon.
    public var dayRange: Range<Int> {
        let h = configuration.settings.horizonDays
        let firstAllowed = max(configuration.warmupDays, configuration.settings.seedReturns + h + 2)
        var start = firstAllowed
        if let from = configuration.fromDay, let index = history.days.firstIndex(where: { $0 >= from }) { start = max(start, index) }
        var end = history.days.count - h
        if let to = configuration.toDay, let index = history.days.lastIndex(where: { $0 <= to }) { end = min(end, index + 1) }
        return start..<max(start, end)
    }

    /// How many day-passes `run` makes (for progress): the run, the baseline, each other model.
    public var passes: Int {
        1 + (configuration.baseline == nil ? 0 : 1) + (configuration.compareVolatilityModels ? VolatilityModel.allCases.count - 1 : 0)
    }

    /// Runs the backtest. `progress(done, total)` is called after each day of each pass.
    public func run(progress: (Int, Int) -> Void = { _, _ in }) throws(MarginError) -> BacktestResult {
        let s = configuration.settings
        let range = dayRange
        guard !range.isEmpty else { throw .invalidInput(field: "from/to", reason: "no backtest day between the warm-up and the last day minus the horizon") }
        let total = range.count * passes
        var done = 0
        func step() {
            done += 1
            progress(done, total)
        }
        let dates = range.map { UTCDay.format(history.days[$0]) }
        let series = try calibratedSeries(settings: s, range: range, step: step)
        var result = BacktestResult(confidence: s.confidence, horizonDays: s.horizonDays, from: dates.first!, to: dates.last!,
                                    volatilityModel: description, series: series)
        if let baseline = configuration.baseline {
            result.baseline = BaselineBacktest(params: .init(id: baseline.id, version: baseline.version, summary: baseline.summary),
                                               confidence: s.confidence, series: try baselineSeries(baseline, range: range, step: step))
        }
        if configuration.compareVolatilityModels {
            var comparisons: [VolatilityModelComparison] = []
            for model in VolatilityModel.allCases {
                var settings = s
                settings.volatilityModel = model
                let modelSeries = model == s.volatilityModel ? series : try calibratedSeries(settings: settings, range: range, step: step)
                var losses: [String: ForecastLoss] = [:]
                for own in history.histories {
                    losses[own.underlying] = try VolatilityForecastEvaluation.evaluate(
                        own, model: model, settings: settings, fromDay: history.days[range.lowerBound], toDay: history.days[range.upperBound - 1])
                }
                comparisons.append(VolatilityModelComparison(model: model.rawValue, forecastLoss: losses,
                                                             portfolios: modelSeries.map { PortfolioBacktest(series: $0, confidence: s.confidence) }))
            }
            result.volatilityModels = comparisons
        }
        return result
    }

    /// The model description the report prints.
    var description: String {
        let s = configuration.settings
        let bound = s.maxRevolatilisation.map { "revolatilisation ≤ \(TextFormatting.compact($0))×" } ?? "revolatilisation unbounded"
        let theta = configuration.ageOptionsOverHorizon ? "; options aged \(s.horizonDays) days in the scenarios (theta over the MPOR)"
            : "; options not aged over the horizon (instantaneous scenarios)"
        return "\(configuration.volatility.description); calibrated daily: \(s.volatilityModel.rawValue) volatility (refit every \(s.refitDays) days"
            + " on \(s.fitWindowDays) returns, λ = \(s.lambda)), \(bound), FHS \(s.measure.rawValue.uppercased()) \(formatPercent(s.confidence))"
            + " over \(s.horizonDays) days, APC \(s.apc.label), max step \(TextFormatting.compact(s.maxStep)), d = \(s.decorrelation), base \(configuration.base.id)\(theta)"
    }

    func day(_ index: Int, _ volatilities: [[Double]]) -> BacktestDay {
        var prices: [String: Double] = [:], vols: [String: Double] = [:]
        for (u, name) in history.underlyings.enumerated() {
            prices[name] = history.closes[u][index]
            vols[name] = volatilities[u][min(index, volatilities[u].count - 1)]
        }
        return BacktestDay(dayIndex: index, timestampMs: UTCDay.unixMs(ofDay: history.days[index]), prices: prices, volatilities: vols)
    }
}
