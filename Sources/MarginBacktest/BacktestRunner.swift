import Dispatch
import MarginCore
import Synchronization

/// Walks the history day by day: calibrates with data up to that day only (no look-ahead, the APC
/// buffer and phase-in carried from the day before), margins every portfolio (IM, MM, the grid's
/// and the FHS loss, with APC and without), and measures the realised loss of the frozen
/// portfolio over the next `horizonDays`, fully revalued.
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

    /// Runs the backtest. `progress(done, total)` is called after each day.
    public func run(progress: (Int, Int) -> Void = { _, _ in }) throws(MarginError) -> BacktestResult {
        let s = configuration.settings
        let h = s.horizonDays
        let range = dayRange
        guard !range.isEmpty else { throw .invalidInput(field: "from/to", reason: "no backtest day between the warm-up and the last day minus the horizon") }
        let volatilities = try configuration.volatility.volatilities(history)
        var plainSettings = s
        plainSettings.apc = .none
        let calibrators = [try RiskModelCalibrator(settings: s), try RiskModelCalibrator(settings: plainSettings)]
        let variants = configuration.compareWithoutAPC ? 2 : 1
        // The backtest measures the market-risk model: daily closes carry no depth, volume or open
        // interest, so the liquidity and concentration add-ons are off (their no-book fallback would
        // otherwise dominate every requirement).
        var base = configuration.base
        for underlying in base.riskUnits.keys {
            base.riskUnits[underlying]?.liquidityAddOn = nil
            base.riskUnits[underlying]?.concentrationAddOn = nil
        }
        var states: [[String: RiskModelCalibrator.State]] = [[:], [:]]
        // values[portfolio][variant][measure][day]
        let measures = BacktestSeries.Measure.allCases
        var margins = [[[[Double]]]](repeating: [[[Double]]](repeating: [[Double]](repeating: [Double](repeating: .nan, count: range.count), count: measures.count), count: 2), count: portfolios.count)
        var losses = [[Double]](repeating: [Double](repeating: .nan, count: range.count), count: portfolios.count)

        for (offset, d) in range.enumerated() {
            let day = self.day(d, volatilities)
            let later = self.day(d + h, volatilities)
            var calculators: [MarginCalculator] = []
            for variant in 0..<variants {
                let result = try calibrators[variant].calibrate(history, asOfDay: history.days[d], previous: states[variant])
                for u in history.underlyings { states[variant][u] = result.state(for: u) }
                let parameters = try base.applyingCalibration(result, settings: variant == 0 ? s : plainSettings,
                                                                             id: "backtest", version: Int64(history.days[d]))
                calculators.append(MarginCalculator(parameters: parameters))
            }
            let tasks = portfolios.count * variants
            let calculatorsOfDay = calculators
            let outcomes = Mutex([(Int, [Double])?](repeating: nil, count: tasks))
            let failure = Mutex<MarginError?>(nil)
            let portfolios = self.portfolios
            DispatchQueue.concurrentPerform(iterations: tasks) { task in
                let p = task / variants, variant = task % variants
                do throws(MarginError) {
                    let book = day.book(portfolios[p], id: portfolios[p].name)
                    let result = try calculatorsOfDay[variant].margin(account: book.account, catalog: book.catalog, markets: book.markets, asOfMs: day.timestampMs)
                    let values = measures.map { measure -> Double in
                        switch measure {
                        case .im: return result.initialRequirement
                        case .mm: return result.maintenanceRequirement
                        case .grid: return result.riskModel.gridLoss
                        case .fhs: return result.riskModel.historical?.loss ?? .nan
                        }
                    }
                    var loss = Double.nan
                    if variant == 0 {
                        let quantities = book.account.positions.map(\.quantity)
                        loss = day.value(of: book.instruments, quantities: quantities) - later.value(of: book.instruments, quantities: quantities)
                    }
                    outcomes.withLock { $0[task] = (p, values + [loss]) }
                } catch {
                    failure.withLock { $0 = $0 ?? error }
                }
            }
            if let error = failure.withLock({ $0 }) { throw error }
            let collected = outcomes.withLock { $0 }
            for task in 0..<tasks {
                guard let (p, values) = collected[task] else { continue }
                let variant = task % variants
                for m in measures.indices { margins[p][variant][m][offset] = values[m] }
                if variant == 0 { losses[p][offset] = values[measures.count] }
            }
            progress(offset + 1, range.count)
        }

        let dates = range.map { UTCDay.format(history.days[$0]) }
        var series: [BacktestSeries] = []
        for (p, portfolio) in portfolios.enumerated() {
            for (m, measure) in measures.enumerated() {
                series.append(BacktestSeries(portfolio: portfolio.name, measure: measure, dates: dates, margin: margins[p][0][m],
                                             marginWithoutAPC: variants > 1 ? margins[p][1][m] : nil, realisedLoss: losses[p]))
            }
        }
        let model = "\(configuration.volatility.description); calibrated daily: EWMA λ = \(s.lambda), FHS \(s.measure.rawValue.uppercased()) \(formatPercent(s.confidence)) over \(h) days, APC \(s.apc.label), d = \(s.decorrelation), base \(configuration.base.id)"
        return BacktestResult(confidence: s.confidence, horizonDays: h, from: dates.first!, to: dates.last!, volatilityModel: model, series: series)
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
