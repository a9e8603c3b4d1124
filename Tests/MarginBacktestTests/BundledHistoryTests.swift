import MarginBacktest
import MarginSchema
import MarginTesting
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

/// With delta-one exposures valued at the standard-range edge in tail scenarios, calibration binds
/// for a perpetual: its margin follows its market.
@Suite struct CalibratedDeltaOneTests {
    /// MM of 1 long BTC perpetual at 50,000 under the `deribit-like` set calibrated up to `day`.
    static func maintenance(asOf day: String) throws -> Double {
        let history = try JointHistory(HistoryFiles.load("builtin"))
        let settings = RiskModelSettings()
        let calibration = try RiskModelCalibrator(settings: settings).calibrate(history, asOfDay: UTCDay.parse(day))
        let parameters = try RiskPresets.load("deribit-like").applyingCalibration(calibration, settings: settings, id: "calibrated", version: 1)
        var (market, catalog) = SyntheticBook.market(underlying: "BTC", index: 50_000, strikesPerExpiry: 4)
        market.perpetualMark = 50_000
        let markets = MarketState([market, UnderlyingMarket(underlying: "USDC", timestampMs: market.timestampMs, indexPrice: 1)])
        let account = Account(id: "perp", balances: ["USDC": 1_000_000],
                              positions: [Position(instrument: "BTC-PERPETUAL", quantity: 1, averageEntryPrice: 50_000)])
        return try MarginCalculator(parameters: parameters).margin(account: account, catalog: catalog, markets: markets,
                                                                   asOfMs: market.timestampMs).maintenanceRequirement
    }

    @Test("A calibrated long BTC perpetual's MM at a stressed date is at least 1.25× its value at a calm one")
    func marginFollowsTheMarket() throws {
        let stressed = try Self.maintenance(asOf: "2022-06-20")
        let calm = try Self.maintenance(asOf: "2023-10-15")
        #expect(stressed >= 1.25 * calm, "stressed \(stressed), calm \(calm)")
    }
}
