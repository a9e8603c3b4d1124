import Dispatch
import MarginCore
import Synchronization

extension BacktestRunner {
    /// The base set as the backtest margins with it: liquidity and concentration add-ons off (daily
    /// closes carry no depth, volume or open interest, and their no-book fallback would otherwise
    /// dominate every requirement), options aged over the horizon when asked.
    func marketRiskOnly(_ parameters: RiskParameters) -> RiskParameters {
        var p = parameters
        for underlying in p.riskUnits.keys {
            p.riskUnits[underlying]?.liquidityAddOn = nil
            p.riskUnits[underlying]?.concentrationAddOn = nil
            if configuration.ageOptionsOverHorizon { p.riskUnits[underlying]?.scenarioAgingDays = Double(configuration.settings.horizonDays) }
        }
        return p
    }

    /// The calibrated model's series (IM, MM, FHS, grid per portfolio) under `settings`, with the
    /// margin without APC beside it when the configuration asks. The volatility model is refitted
    /// every ``RiskModelSettings/refitDays`` (the same fit serves the run with and without APC).
    func calibratedSeries(settings s: RiskModelSettings, range: Range<Int>, step: () -> Void) throws(MarginError) -> [BacktestSeries] {
        var plainSettings = s
        plainSettings.apc = .none
        let calibrators = [try RiskModelCalibrator(settings: s), try RiskModelCalibrator(settings: plainSettings)]
        let variants = configuration.compareWithoutAPC ? 2 : 1
        let base = marketRiskOnly(configuration.base)
        var states: [[String: RiskModelCalibrator.State]] = [[:], [:]]
        var fits: [String: VolatilityFit] = [:]
        let columns = Columns(days: range.count, portfolios: portfolios.count, variants: variants)
        let volatilities = try configuration.volatility.volatilities(history)
        for (offset, d) in range.enumerated() {
            if offset % s.refitDays == 0 { fits = [:] }
            var calculators: [MarginCalculator] = []
            for variant in 0..<variants {
                let result = try calibrators[variant].calibrate(history, asOfDay: history.days[d], previous: states[variant], fits: fits)
                fits = result.fits
                for u in history.underlyings { states[variant][u] = result.state(for: u) }
                let parameters = try base.applyingCalibration(result, settings: variant == 0 ? s : plainSettings,
                                                              id: "backtest", version: Int64(history.days[d]))
                calculators.append(MarginCalculator(parameters: parameters))
            }
            try margin(day: d, offset: offset, calculators: calculators, volatilities: volatilities, into: columns)
            step()
        }
        return columns.series(portfolios: portfolios, dates: range.map { UTCDay.format(history.days[$0]) }, withoutAPC: variants > 1)
    }

    /// The same portfolios on the same days under `parameters` as shipped: no calibration, no FHS.
    func baselineSeries(_ parameters: RiskParameters, range: Range<Int>, step: () -> Void) throws(MarginError) -> [BacktestSeries] {
        let calculator = MarginCalculator(parameters: marketRiskOnly(parameters))
        let columns = Columns(days: range.count, portfolios: portfolios.count, variants: 1)
        let volatilities = try configuration.volatility.volatilities(history)
        for (offset, d) in range.enumerated() {
            try margin(day: d, offset: offset, calculators: [calculator], volatilities: volatilities, into: columns)
            step()
        }
        return columns.series(portfolios: portfolios, dates: range.map { UTCDay.format(history.days[$0]) }, withoutAPC: false)
    }

    /// Margins every portfolio on day `d` with each calculator (in parallel) and records the
    /// measures, the realised loss over the horizon and the gross notional.
    func margin(day d: Int, offset: Int, calculators: [MarginCalculator], volatilities: [[Double]], into columns: Columns) throws(MarginError) {
        let h = configuration.settings.horizonDays
        let day = self.day(d, volatilities)
        let later = self.day(d + h, volatilities)
        let variants = calculators.count
        let failure = Mutex<MarginError?>(nil)
        let portfolios = self.portfolios
        DispatchQueue.concurrentPerform(iterations: portfolios.count * variants) { task in
            let p = task / variants, variant = task % variants
            do throws(MarginError) {
                let book = day.book(portfolios[p], id: portfolios[p].name)
                let result = try calculators[variant].margin(account: book.account, catalog: book.catalog, markets: book.markets, asOfMs: day.timestampMs)
                let values = BacktestSeries.Measure.allCases.map { measure -> Double in
                    switch measure {
                    case .im: return result.initialRequirement
                    case .mm: return result.maintenanceRequirement
                    case .grid: return result.riskModel.gridLoss
                    case .fhs: return result.riskModel.historical?.loss ?? .nan
                    }
                }
                columns.record(portfolio: p, variant: variant, day: offset, values: values)
                if variant == 0 {
                    let quantities = book.account.positions.map(\.quantity)
                    let loss = day.value(of: book.instruments, quantities: quantities) - later.value(of: book.instruments, quantities: quantities)
                    columns.record(portfolio: p, day: offset, loss: loss, notional: day.grossNotional(book.instruments, quantities: quantities))
                }
            } catch {
                failure.withLock { $0 = $0 ?? error }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// The values one pass collects: per portfolio, variant (with/without APC) and measure, a margin
    /// per day; per portfolio the realised loss and gross notional per day. Filled from parallel tasks.
    final class Columns: Sendable {
        private struct Storage {
            // margins[portfolio][variant][measure][day]
            var margins: [[[[Double]]]]
            var losses: [[Double]]
            var notionals: [[Double]]
        }
        private let storage: Mutex<Storage>

        init(days: Int, portfolios: Int, variants: Int) {
            let measures = BacktestSeries.Measure.allCases.count
            let empty = [Double](repeating: .nan, count: days)
            storage = Mutex(Storage(
                margins: [[[[Double]]]](repeating: [[[Double]]](repeating: [[Double]](repeating: empty, count: measures), count: variants), count: portfolios),
                losses: [[Double]](repeating: empty, count: portfolios), notionals: [[Double]](repeating: empty, count: portfolios)))
        }

        func record(portfolio: Int, variant: Int, day: Int, values: [Double]) {
            storage.withLock { s in for (m, value) in values.enumerated() { s.margins[portfolio][variant][m][day] = value } }
        }

        func record(portfolio: Int, day: Int, loss: Double, notional: Double) {
            storage.withLock { s in
                s.losses[portfolio][day] = loss
                s.notionals[portfolio][day] = notional
            }
        }

        func series(portfolios: [BacktestPortfolio], dates: [String], withoutAPC: Bool) -> [BacktestSeries] {
            storage.withLock { s in
                var result: [BacktestSeries] = []
                for (p, portfolio) in portfolios.enumerated() {
                    for (m, measure) in BacktestSeries.Measure.allCases.enumerated() {
                        result.append(BacktestSeries(portfolio: portfolio.name, measure: measure, dates: dates, margin: s.margins[p][0][m],
                                                     marginWithoutAPC: withoutAPC ? s.margins[p][1][m] : nil, realisedLoss: s.losses[p],
                                                     notional: s.notionals[p]))
                    }
                }
                return result
            }
        }
    }
}
