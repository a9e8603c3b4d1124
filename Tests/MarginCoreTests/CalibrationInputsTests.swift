import Foundation
import MarginCore
import MarginTesting
import Testing

/// Implied-volatility history: scenarios carry the ATM vol's move and the kernel revalues at it.
@Suite struct ImpliedVolatilityHistoryTests {
    @Test func calibrationCarriesTheAtmVolatilityMoveOfEachWindow() throws {
        let closes = RiskModelTests.closes(days: 200, seed: 8) { _ in 0.02 }
        let vols: [Double?] = (0..<200).map { 0.5 + 0.002 * Double($0) }
        let history = try JointHistory([try PriceHistory(underlying: "X", days: (0..<200).map { RiskModelTests.day0 + $0 },
                                                         closes: closes, impliedVolatility: [7: vols.map { _ in 0.9 }, 30: vols])])
        var settings = RiskModelSettings()
        settings.horizonDays = 2
        settings.apc = .none
        let set = try RiskModelCalibrator(settings: settings).calibrate(history).scenarios
        let multipliers = try #require(set.volatilityMultipliers["X"])
        #expect(multipliers.count == set.scenarioCount)
        // Window w starts on the day its label names: vol two days later over vol that day (the 30-day tenor).
        let first = UTCDay.parse(set.labels[0])! - RiskModelTests.day0 - 1
        #expect(abs(multipliers[0] - vols[first + 2]! / vols[first]!) < 1e-15)
        // A day without a vol drops the multipliers (the volatility treatment applies).
        var gappy = vols
        gappy[150] = nil
        let partial = try JointHistory([try PriceHistory(underlying: "X", days: (0..<200).map { RiskModelTests.day0 + $0 },
                                                         closes: closes, impliedVolatility: [30: gappy])])
        #expect(try RiskModelCalibrator(settings: settings).calibrate(partial).scenarios.volatilityMultipliers.isEmpty)
    }

    @Test func theKernelRevaluesAtTheScaledVolatility() throws {
        let (market, catalog) = SyntheticBook.market(strikesPerExpiry: 5)
        var parameters = SyntheticBook.parameters()
        parameters.historicalSimulation = HistoricalScenarioSet(volatilityTreatment: .worstOfGrid, labels: ["d"], logReturns: ["BTC": [0]],
                                                                volatilityMultipliers: ["BTC": [1.5]])
        let calculator = MarginCalculator(parameters: parameters)
        let book = try calculator.riskBook(for: "BTC", catalog: catalog, markets: MarketState([market]), asOfMs: market.timestampMs)
        #expect(book.scenarioCount == book.gridScenarioCount + 3)
        let option = catalog.options(on: "BTC")[12]
        let slot = try #require(book.slot(of: option.name))
        let group = book.expiryGroup(ofSlot: slot)
        guard case .option(_, let strike, let right) = option.kind else { Issue.record("not an option"); return }
        func price(_ vol: Double) -> Double {
            Black76.price(Black76Inputs(forward: group.forward, strike: strike, timeToExpiry: group.timeToExpiry, volatility: vol, rate: group.rate, right: right))
        }
        let expected = price(book.markVolatilities[slot] * 1.5) - price(book.markVolatilities[slot])
        let pnl = try #require(book.riskArray(for: option.name))
        for column in book.gridScenarioCount..<book.scenarioCount {
            #expect(abs(pnl[column] - expected) < 1e-7 * max(1, abs(expected)))
        }
        #expect(expected > 0)
    }
}

/// What each underlying's calibration is made of: its own history, its own range in log terms,
/// the bounded revolatilisation.
@Suite struct CalibrationInputsTests {
    @Test("An underlying's figures come from its own history: adding a younger coin changes none of them")
    func ownHistory() throws {
        let btc = RiskModelTests.closes(days: 900, seed: 21) { d in d % 200 < 30 ? 0.05 : 0.02 }
        let young = RiskModelTests.closes(days: 300, seed: 22) { _ in 0.04 }
        let alone = try RiskModelTests.history(["BTC": btc])
        let withYoung = try JointHistory([
            PriceHistory(underlying: "BTC", days: btc.indices.map { RiskModelTests.day0 + $0 }, closes: btc),
            PriceHistory(underlying: "NEW", days: young.indices.map { RiskModelTests.day0 + 600 + $0 }, closes: young),
        ])
        let calibrator = try RiskModelCalibrator()
        let a = try calibrator.calibrate(alone), b = try calibrator.calibrate(withYoung)
        #expect(a.underlyings["BTC"] == b.underlyings["BTC"])
        #expect(a.histories["BTC"] == b.histories["BTC"] && b.histories["NEW"]!.lowerBound == RiskModelTests.day0 + 600)
        // The joint scenario set uses the common days only.
        #expect(b.scenarios.scenarioCount < a.scenarios.scenarioCount && b.fromDay == RiskModelTests.day0 + 600)
        let parameters = try SyntheticBook.parameters(underlying: "BTC").applyingCalibration(b, settings: RiskModelSettings(), id: "c", version: 1)
        #expect(parameters.provenance["calibration.BTC.history"] == "2020-01-01..\(UTCDay.format(RiskModelTests.day0 + 899))")
        #expect(parameters.provenance["calibration.volatility_model"] == "har")
    }

    @Test("The range is a quantile of |log return|: the grid's edges are e^(−q) − 1 and e^q − 1")
    func logConsistentRange() throws {
        let h = try RiskModelTests.history(["X": RiskModelTests.closes(days: 500, seed: 4) { _ in 0.05 }])
        let result = try RiskModelCalibrator().calibrate(h)
        let q = result.underlyings["X"]!.priceRange
        let unit = try SyntheticBook.parameters(underlying: "X").applyingCalibration(result, settings: RiskModelSettings(), id: "c", version: 1)
            .riskUnits["X"]!
        #expect(abs(unit.regularRange.lowest - exp(-q)) < 1e-12 && abs(unit.regularRange.highest - exp(q)) < 1e-12)
        // The points between keep their place on each side.
        let downs = unit.scenarios.filter { $0.kind == .regular && $0.spotShock < 1 }.map(\.spotShock)
        #expect(Set(downs).count == 6 && downs.allSatisfy { $0 >= exp(-q) - 1e-12 })
    }

    @Test("Revolatilisation is bounded: after a calm year, today's spike scales calm days at most B times")
    func boundedRevolatilisation() throws {
        let closes = RiskModelTests.closes(days: 600, seed: 8) { d in d < 590 ? 0.01 : 0.12 }
        let h = try RiskModelTests.history(["X": closes])
        var bounded = RiskModelTests.mechanics(); bounded.apc = .none; bounded.horizonDays = 1; bounded.seedReturns = 30
        bounded.maxRevolatilisation = 2
        var free = bounded; free.maxRevolatilisation = nil
        let a = try RiskModelCalibrator(settings: bounded).calibrate(h), b = try RiskModelCalibrator(settings: free).calibrate(h)
        let r = (1..<closes.count).map { log(closes[$0] / closes[$0 - 1]) }
        let f = try EWMAVariance(lambda: 0.94).forecasts(r)
        let sigmaT = f[r.count].squareRoot()
        #expect(sigmaT / f[100].squareRoot() > 2)
        for (index, scenario) in a.scenarios.logReturns["X"]!.enumerated() {
            let d = 30 + index
            #expect(abs(scenario - r[d] * min(sigmaT / f[d].squareRoot(), 2)) < 1e-15)
        }
        #expect(a.underlyings["X"]!.priceRange < b.underlyings["X"]!.priceRange)
    }
}
