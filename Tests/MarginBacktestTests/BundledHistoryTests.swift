import MarginBacktest
import MarginCore
import Testing

/// The bundled BTC and ETH history loads and calibrates deterministically.
@Suite struct BundledHistoryTests {
    @Test func bundledHistoryLoadsBothUnderlyings() throws {
        let histories = try HistoryFiles.load("builtin")
        #expect(histories.map(\.underlying) == ["BTC", "ETH"])
        #expect(histories[0].count == 4_209)
        #expect(histories[1].count == 3_060)
        #expect(UTCDay.format(histories[0].firstDay!) == "2014-09-17")
        #expect(UTCDay.format(histories[1].lastDay!) == "2026-03-26")
    }

    @Test func calibrationOnTheBundledHistoryIsDeterministic() throws {
        let history = try JointHistory(HistoryFiles.load("builtin"))
        let calibrator = try RiskModelCalibrator()
        let a = try calibrator.calibrate(history)
        let b = try calibrator.calibrate(history)
        #expect(a == b)
        #expect(a.scenarios.scenarioCount > 3_000)
        // The March 2020 crash is in the scenario set and among the worst BTC moves.
        let btc = a.scenarios.logReturns["BTC"]!
        let worst = a.scenarios.labels[btc.indices.min { btc[$0] < btc[$1] }!]
        #expect(worst.hasPrefix("2020-03-1"))
        for (_, u) in a.underlyings {
            #expect(u.priceRange >= u.priceRangeWithoutAPC)
            #expect(u.priceRange > 0.05 && u.priceRange < 0.6)
        }
    }
}
