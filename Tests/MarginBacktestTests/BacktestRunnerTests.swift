import Foundation
import MarginBacktest
import MarginSchema
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
        // book's FHS loss is not lower either — up to the bounded revolatilisation, which is not linear
        // in σ for a window mixing bounded and unbounded days (RiskModelCalibrator.revolatilisation):
        // 1 % here. An option book need not lose more on a larger move, and a pair's legs are
        // rescaled by different factors.
        for series in result.series where series.measure == .fhs && series.portfolio.hasSuffix("perp") {
            for (i, (with, without)) in zip(series.margin, series.marginWithoutAPC!).enumerated() {
                #expect(with >= 0.99 * without, "\(series.portfolio) \(series.dates[i])")
            }
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

/// The static baseline, the volatility-model comparison, every exception in the report, and the
/// defaults on a coin nobody tuned them for.
@Suite struct BacktestComparisonTests {
    static func perps(_ underlyings: [String]) -> [BacktestPortfolio] {
        BacktestPortfolio.builtin(underlyings: underlyings).filter { $0.name.hasSuffix("perp") }
    }

    @Test func baselineAndVolatilityModelsOnAShortWindow() throws {
        let history = try JointHistory(HistoryFiles.load("builtin"))
        var configuration = BacktestRunner.Configuration(settings: RiskModelSettings(), base: try RiskPresets.load("deribit-like"))
        configuration.fromDay = UTCDay.parse("2020-03-02")
        configuration.toDay = UTCDay.parse("2020-03-20")
        configuration.baseline = try RiskPresets.load("deribit-like")
        configuration.compareVolatilityModels = true
        configuration.compareWithoutAPC = false
        let runner = try BacktestRunner(history: history, portfolios: Self.perps(["BTC"]), configuration: configuration)
        #expect(runner.passes == 1 + 1 + 3)
        let result = try runner.run()
        let baseline = try #require(result.baseline)
        #expect(baseline.params.id == "deribit-like" && baseline.portfolios.count == result.portfolios.count)
        // The static grid charges a perpetual 16 % + the 1 % roll shock of its notional every day.
        let staticIM = try #require(baseline.portfolios.first { $0.name == "BTC long perp" && $0.measure == .im })
        #expect(abs(staticIM.efficiency.meanMarginPctNotional - 17) < 1e-6)
        let models = try #require(result.volatilityModels)
        #expect(models.map(\.model) == VolatilityModel.allCases.map(\.rawValue))
        for model in models {
            let loss = try #require(model.forecastLoss["BTC"])
            #expect(loss.observations > 10 && loss.qlike.isFinite && loss.mse > 0)
            #expect(model.portfolios.count == result.portfolios.count)
        }
        // The JSON carries both; the report shows the static line and every exception.
        let object = try #require(try JSONSerialization.jsonObject(with: result.jsonData()) as? [String: Any])
        #expect(object["baseline"] != nil && (object["vol_models"] as? [Any])?.count == 4)
        let html = result.html()
        #expect(html.contains("dynamic IM and static IM against realised loss") && html.contains("id=\"vol-models\""))
        let exceptions = result.portfolios.reduce(0) { $0 + $1.exceptions }
        #expect(exceptions > 0)
        #expect(html.components(separatedBy: "<line class=\"tick\"").count - 1 == exceptions)
    }

    /// A seeded GJR-GARCH coin with a crash regime: daily closes nobody tuned the defaults on.
    static func syntheticCoin(days: Int, seed: UInt64) throws -> PriceHistory {
        var generator = SeededGenerator(seed: seed)
        var variance = 0.0009, price = 50.0
        var closes = [price]
        for day in 1..<days {
            let u1 = Double.random(in: 1e-12..<1, using: &generator), u2 = Double.random(in: 0..<1, using: &generator)
            let z = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
            // Student-t(4) by a chi-square mixture, scaled to unit variance.
            var chi = 0.0
            for _ in 0..<4 { let n = Double.random(in: 1e-12..<1, using: &generator); chi += -2 * log(n) / 2 }
            let t = z / (chi / 4).squareRoot() * 0.5.squareRoot()
            let shock = (day % 700 == 350) ? -0.3 : 0
            let r = variance.squareRoot() * t + shock
            variance = 2e-5 + (0.05 + (r < 0 ? 0.1 : 0)) * r * r + 0.87 * variance
            price *= exp(r)
            closes.append(price)
        }
        let first = UTCDay.parse("2019-01-01")!
        return try PriceHistory(underlying: "SYN", days: closes.indices.map { first + $0 }, closes: closes)
    }

    @Test func defaultsCoverAnUntunedCoinsPerpetuals() throws {
        let history = try JointHistory([Self.syntheticCoin(days: 1_500, seed: 5)])
        var configuration = BacktestRunner.Configuration(settings: RiskModelSettings(), base: try RiskPresets.load("deribit-like"))
        configuration.compareWithoutAPC = false
        let result = try BacktestRunner(history: history, portfolios: Self.perps(["SYN"]), configuration: configuration).run()
        for portfolio in result.portfolios where portfolio.measure == .im {
            #expect(portfolio.observations > 1_000)
            #expect(portfolio.coverage >= 0.99 && portfolio.trafficLight.zone == .green, "\(portfolio.name): \(portfolio.coverage)")
            // Not by holding everything: the margin stays within three times the realised tail.
            #expect(portfolio.efficiency.marginOverQ99Loss > 1 && portfolio.efficiency.marginOverQ99Loss < 3,
                    "\(portfolio.name): margin / q99 loss \(portfolio.efficiency.marginOverQ99Loss)")
        }
    }
}
