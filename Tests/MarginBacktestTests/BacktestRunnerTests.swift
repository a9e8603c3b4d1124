import MarginBacktest
import MarginCore
import Testing
import MarginTesting

/// The backtest walk on the bundled history: no look-ahead, the realised loss by full
/// revaluation, the series and statistics the report shows.
@Suite struct BacktestRunnerTests {
    static func base() -> RiskParameters {
        var parameters = SyntheticBook.parameters(underlying: "BTC")
        parameters.riskUnits["ETH"] = parameters.riskUnits["BTC"]
        return parameters
    }

    static func runner(history: JointHistory, from: String, to: String, portfolios: [BacktestPortfolio]? = nil) throws -> BacktestRunner {
        var settings = RiskModelSettings()
        settings.lookbackDays = 500
        var configuration = BacktestRunner.Configuration(settings: settings, base: base())
        configuration.fromDay = UTCDay.parse(from)
        configuration.toDay = UTCDay.parse(to)
        return try BacktestRunner(history: history, portfolios: portfolios ?? BacktestPortfolio.builtin(underlyings: history.underlyings),
                                  configuration: configuration)
    }

    @Test func marginsUseNoDataAfterTheDay() throws {
        let full = try JointHistory(HistoryFiles.load("builtin"))
        let cut = try JointHistory(HistoryFiles.load("builtin").map { $0.truncated(through: UTCDay.parse("2020-03-20")!) })
        let portfolios = Array(BacktestPortfolio.builtin(underlyings: ["BTC", "ETH"]).prefix(3))
        let a = try Self.runner(history: full, from: "2020-03-05", to: "2020-03-15", portfolios: portfolios).run()
        let b = try Self.runner(history: cut, from: "2020-03-05", to: "2020-03-15", portfolios: portfolios).run()
        #expect(a.series.count == b.series.count)
        for (x, y) in zip(a.series, b.series) {
            #expect(x.dates == y.dates)
            #expect(x.margin == y.margin)
            #expect(x.realisedLoss == y.realisedLoss)
        }
    }

    @Test func perpetualLossIsThePriceMoveOverTheHorizon() throws {
        let history = try JointHistory(HistoryFiles.load("builtin"))
        let long = BacktestPortfolio(name: "one BTC", legs: [.init(RollingInstrument(underlying: "BTC", kind: .perpetual), quantity: 1)])
        let result = try Self.runner(history: history, from: "2020-03-10", to: "2020-03-14", portfolios: [long]).run()
        let btc = history.closes[history.underlyings.firstIndex(of: "BTC")!]
        let start = history.days.firstIndex(of: UTCDay.parse("2020-03-10")!)!
        let series = result.series.first { $0.measure == .im }!
        for (offset, loss) in series.realisedLoss.enumerated() {
            #expect(abs(loss - (btc[start + offset] - btc[start + offset + 2])) < 1e-9)
        }
        // The March 2020 crash (−37 % on the 12th) breaks a margin calibrated on calm data.
        #expect(series.exceptions.contains(true))
        #expect(result.portfolios.first { $0.measure == .im }!.exceptions >= 1)
    }

    @Test func everySeriesIsFiniteAndTheReportRenders() throws {
        let history = try JointHistory(HistoryFiles.load("builtin"))
        let result = try Self.runner(history: history, from: "2021-05-10", to: "2021-05-25").run()
        #expect(result.series.count == BacktestPortfolio.builtin(underlyings: ["BTC", "ETH"]).count * 4)
        for series in result.series {
            #expect(series.margin.allSatisfy { $0.isFinite && $0 >= 0 })
            #expect(series.realisedLoss.allSatisfy { $0.isFinite })
            #expect(series.marginWithoutAPC?.allSatisfy { $0.isFinite } == true)
        }
        // With APC the applied volatility is never below the plain model's, so a one-underlying linear
        // book's FHS loss is never lower (an option book need not lose more on a larger move, and a
        // pair's legs are rescaled by different factors).
        for series in result.series where series.measure == .fhs && series.portfolio.hasSuffix("perp") {
            for (i, (with, without)) in zip(series.margin, series.marginWithoutAPC!).enumerated() { #expect(with >= without - 1e-6, "\(series.portfolio) \(series.dates[i])") }
        }
        _ = try result.jsonData()
        #expect(result.html().contains("<svg class=\"chart\""))
    }

    @Test func rollingInstrumentNamesRoundTrip() throws {
        for name in ["BTC-PERPETUAL", "ETH-30D-0.9-P", "BTC-7D-1.0-C"] {
            #expect(try RollingInstrument(name: name).name == name)
        }
        #expect(throws: MarginError.self) { try RollingInstrument(name: "BTC-26JUN20-9000-C") }
    }
}
