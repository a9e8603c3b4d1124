import Foundation
import Testing
@testable import MarginBacktest

@Suite struct BacktestStatisticsTests {
    static let expectedPortfolioKeys: Set<String> = [
        "name", "measure", "observations", "exceptions", "coverage", "kupiec", "christoffersen",
        "traffic_light", "procyclicality", "procyclicality_without_apc", "efficiency",
    ]

    @Test func statisticsFromASeries() {
        let series = BacktestSeries(portfolio: "p", measure: .im, dates: SyntheticSeries.dates(6),
                                    margin: [10, 10, 10, 10, 10, 10], realisedLoss: [11, 12, 1, .nan, 3, 10])
        let result = PortfolioBacktest(series: series, confidence: 0.99)
        // The NaN day is not an observation; 10 > 10 is not an exception.
        #expect(result.observations == 5 && result.exceptions == 2)
        #expect(abs(result.coverage - 0.6) < 1e-15)
        #expect(result.kupiec == KupiecTest(observations: 5, exceptions: 2, probability: 0.01))
        let counts = TransitionCounts([true, true, false, false, false])
        #expect(result.christoffersen == ChristoffersenTest(transitions: counts, proportionOfFailures: result.kupiec))
        #expect(result.trafficLight.zone == .red)
        #expect(result.procyclicalityWithoutAPC == nil)
    }

    @Test func undefinedStatisticsAreFinite() throws {
        let empty = BacktestSeries(portfolio: "empty", measure: .mm, dates: [], margin: [], realisedLoss: [])
        let all = BacktestSeries(portfolio: "all", measure: .fhs, dates: SyntheticSeries.dates(3), margin: [0, 0, 0],
                                 marginWithoutAPC: [0, 0, 0], realisedLoss: [1, 1, 1])
        let none = BacktestSeries(portfolio: "none", measure: .grid, dates: SyntheticSeries.dates(3),
                                  margin: [5, 5, 5], realisedLoss: [-1, -1, -1])
        let result = BacktestResult(confidence: 0.99, horizonDays: 10, from: "2020-01-01", to: "2020-01-03",
                                    volatilityModel: "test", series: [empty, all, none])
        for p in result.portfolios { #expect(p.numbers.allSatisfy { $0.value.isFinite }, "\(p.name)") }
        #expect(result.portfolios[0].coverage == 1 && result.portfolios[0].kupiec.p == 1)
        #expect(result.portfolios[0].trafficLight == TrafficLight(zone: .green, cumulativeProbability: 1))
        #expect(result.portfolios[1].exceptions == 3 && result.portfolios[1].coverage == 0)
        #expect(result.portfolios[1].procyclicality.peakToTrough == 1)
        #expect(result.portfolios[2].exceptions == 0 && result.portfolios[2].trafficLight.zone == .green)
        let json = try #require(String(data: try result.jsonData(), encoding: .utf8))
        #expect(!json.contains("nan") && !json.contains("inf"))
    }

    @Test func jsonHasTheSpecifiedShapeAndRoundTrips() throws {
        let series = [
            SyntheticSeries.make(portfolio: "alpha", measure: .im, days: 300, seed: 1, withoutAPC: true),
            SyntheticSeries.make(portfolio: "alpha", measure: .fhs, days: 300, seed: 2),
        ]
        let result = BacktestResult(confidence: 0.99, horizonDays: 10, from: "2015-01-01", to: "2015-11-20",
                                    volatilityModel: "EWMA λ = 0.94", series: series)
        let data = try result.jsonData()
        #expect(try result.jsonData() == data)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["confidence", "horizon_days", "from", "to", "volatility_model", "portfolios"])
        let portfolios = try #require(object["portfolios"] as? [[String: Any]])
        #expect(portfolios.count == 2)
        #expect(Set(portfolios[0].keys) == Self.expectedPortfolioKeys)
        #expect(Set(portfolios[1].keys) == Self.expectedPortfolioKeys.subtracting(["procyclicality_without_apc"]))
        #expect(portfolios[0]["measure"] as? String == "im" && portfolios[1]["measure"] as? String == "fhs")
        let keys = { (name: String) in Set(((portfolios[0][name] as? [String: Any]) ?? [:]).keys) }
        #expect(keys("kupiec") == ["lr", "p"])
        #expect(keys("christoffersen") == ["lr_ind", "p_ind", "lr_cc", "p_cc"])
        #expect(keys("traffic_light") == ["zone", "cumulative_probability"])
        let procyclicality: Set<String> = ["peak_to_trough", "max_increase_1d", "max_increase_5d", "max_increase_10d", "max_increase_30d"]
        #expect(keys("procyclicality") == procyclicality && keys("procyclicality_without_apc") == procyclicality)
        #expect(keys("efficiency") == ["mean_margin_pct_notional", "margin_over_q99_loss", "breach_loss_to_margin_mean",
                                       "breach_loss_to_margin_max", "apc_cost"])

        let decoded = try JSONDecoder().decode(BacktestResult.self, from: data)
        #expect(decoded.series.isEmpty)
        var expected = result
        expected.series = []
        #expect(decoded == expected)
        #expect(try decoded.jsonData() == data)
    }

    @Test func jsonRejectsNonFiniteNumbers() throws {
        var result = BacktestResult(confidence: 0.99, horizonDays: 1, from: "a", to: "b", volatilityModel: "",
                                    series: [SyntheticSeries.make(portfolio: "p", measure: .im, days: 50, seed: 3)])
        result.portfolios[0].kupiec.lr = .nan
        #expect(throws: BacktestReportError.self) { try result.jsonData() }
        result.portfolios[0].kupiec.lr = 0
        result.portfolios[0].procyclicality.peakToTrough = .infinity
        #expect(throws: BacktestReportError.nonFiniteNumber(path: "portfolios[0].procyclicality.peak_to_trough",
                                                             value: .infinity)) { try result.jsonData() }
    }
}
