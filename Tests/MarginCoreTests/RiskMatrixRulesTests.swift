import Testing
@testable import MarginCore
import MarginTesting

/// Deribit's risk-matrix rules: known answers for each rule, and the engine's vectors against the
/// straightforward formula (delta-one at the standard-range edge, coin-margined valuation).
@Suite("Deribit risk-matrix rules")
struct RiskMatrixRulesTests {
    static func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool { abs(a - b) <= tolerance * max(1, abs(a), abs(b)) }

    /// Deribit's grid: ±16 % in 9 points × up/none/down, then −66 %, −33 %, +50 %…+500 % on vol up.
    static func deribitUnit(dampener: Double = 0) -> RiskUnitParameters {
        var scenarios: [Scenario] = []
        for level in -4...4 {
            for shock in [Scenario.VolatilityShock.up, .none, .down] {
                scenarios.append(Scenario(spotShock: 1 + 0.04 * Double(level), volatilityShock: shock, kind: .regular))
            }
        }
        for move in [-0.66, -0.33, 0.5, 1, 2, 3, 4, 5] { scenarios.append(Scenario(spotShock: 1 + move, volatilityShock: .up, kind: .tail)) }
        return RiskUnitParameters(
            scenarios: scenarios,
            volatilityShock: VolatilityShockRule(rangeUp: 0.5, rangeDown: 0.25, shortTermPower: 0.3, longTermPower: 0.13, minimumVolatilityUp: 0.5),
            maintenanceFactor: 0.8, initialFactor: 1, deltaOneInTail: .standardRangeEdge, extendedDampener: dampener,
            rollShock: RollShockRule(annualisedMoveRisk: 0.1, minimumAnnualisedMove: 0.01))
    }

    @Test("Roll shock: max(annualised move × years, minimum)")
    func rollShockRate() {
        let rule = RollShockRule(annualisedMoveRisk: 0.075, minimumAnnualisedMove: 0.01)
        #expect(rule.rate(yearsToExpiry: 0) == 0.01)
        #expect(Self.close(rule.rate(yearsToExpiry: 0.029866), 0.01))
        #expect(Self.close(rule.rate(yearsToExpiry: 1), 0.075))
        #expect(Self.close(rule.rate(yearsToExpiry: 2), 0.15))
    }

    @Test("Delta shock: nothing up to the threshold, then a ramp to the maximum at twice it")
    func deltaShockRamp() {
        let rule = DeltaShockRule(maxShock: 0.1, liquidityThreshold: 20_000_000)
        #expect(rule.charge(deltaNotional: 20_600) == 0)
        #expect(rule.charge(deltaNotional: -20_000_000) == 0)
        #expect(Self.close(rule.charge(deltaNotional: 30_000_000), 30_000_000 * 0.1 * 0.5))
        #expect(Self.close(rule.charge(deltaNotional: -50_000_000), 50_000_000 * 0.1))
    }

    @Test("Extended dampener is a deductible on tail losses; gains are credited at pnl_offset up to the cap")
    func adjustment() {
        let a = ScenarioVectorAdjustment(tailDampener: 5_000, gainFraction: 0.4, gainCap: 3_000)
        #expect(a.adjusted(-3_000, tail: true) == 0)
        #expect(a.adjusted(-8_000, tail: true) == -3_000)
        #expect(a.adjusted(-8_000, tail: false) == -8_000)
        #expect(a.adjusted(5_000, tail: false) == 2_000)
        #expect(a.adjusted(10_000, tail: true) == 3_000)
        #expect(ScenarioVectorAdjustment.none.isIdentity)
    }

    /// A BTC market at 60,000 with a perpetual at the index, and a parameter set valued in `valuation`.
    static func world(valuation: String, unit: RiskUnitParameters) throws -> (MarginCalculator, InstrumentCatalog, MarketState) {
        var (market, catalog) = SyntheticBook.market(underlying: "BTC", index: 60_000, strikesPerExpiry: 6)
        market.perpetualMark = 60_000
        catalog.insert(Instrument(name: "BTC-INVERSE-PERP", underlying: "BTC", kind: .perpetual, settlement: .inverse, contractSize: 1))
        catalog.insert(Instrument(name: "BTC", underlying: "BTC", kind: .spot))
        let parameters = RiskParameters(id: "t", version: 1, valuationAsset: valuation, riskUnits: ["BTC": unit])
        return (MarginCalculator(parameters: parameters), catalog, MarketState([market, UnderlyingMarket(underlying: "USDC", timestampMs: market.timestampMs, indexPrice: 1)]))
    }

    @Test("Delta-one exposures take the standard-range edge in tail scenarios; options the tail move itself")
    func deltaOneAtTheEdge() throws {
        let unit = Self.deribitUnit()
        let (calculator, catalog, markets) = try Self.world(valuation: "USDC", unit: unit)
        let asOf = markets["BTC"]!.timestampMs
        for quantity in [2.0, -3.0] {
            let account = Account(id: "p", balances: ["USDC": 1e6], positions: [Position(instrument: "BTC-PERPETUAL", quantity: quantity, averageEntryPrice: 60_000)])
            let result = try calculator.margin(account: account, catalog: catalog, markets: markets, asOfMs: asOf)
            let pnls = result.riskUnits[0].scenarioPnLs
            for (column, scenario) in unit.scenarios.enumerated() {
                let shock = scenario.kind == .tail ? min(max(scenario.spotShock, 0.84), 1.16) : scenario.spotShock
                #expect(Self.close(pnls[column], quantity * 60_000 * (shock - 1)), "column \(column)")
            }
            #expect(Self.close(result.riskUnits[0].worstLoss, abs(quantity) * 60_000 * 0.16))
            #expect(result.riskUnits[0].bindingLabel.contains("standard-range edge"))
            // Roll shock 1 % of notional, through the factors.
            let roll = try #require(result.riskUnits[0].contingencies.first { $0.name == "roll_shock" })
            #expect(Self.close(roll.initial, abs(quantity) * 60_000 * 0.01) && Self.close(roll.maintenance, 0.8 * roll.initial))
            #expect(Self.close(result.maintenanceRequirement, 0.8 * abs(quantity) * 60_000 * 0.17))
        }
        // A short far-out-of-the-money call loses in the +500 % tail beyond the edge.
        let call = try #require(catalog.options(on: "BTC").last { if case .option(_, _, .call) = $0.kind { return true } else { return false } })
        let account = Account(id: "c", balances: ["USDC": 1e6], positions: [Position(instrument: call.name, quantity: -10)])
        let result = try calculator.margin(account: account, catalog: catalog, markets: markets, asOfMs: asOf)
        #expect(result.riskUnits[0].bindingScenario == unit.scenarios.count - 1)
        #expect(result.riskUnits[0].bindingLabel.contains("extended"))
    }

    @Test("The extended dampener removes small tail losses and leaves large ones reduced by it")
    func dampenerInTheEngine() throws {
        let (calculator, catalog, markets) = try Self.world(valuation: "USDC", unit: Self.deribitUnit(dampener: 25_000))
        let asOf = markets["BTC"]!.timestampMs
        let call = try #require(catalog.options(on: "BTC").last { if case .option(_, _, .call) = $0.kind { return true } else { return false } })
        for quantity in [-1.0, -50.0] {
            let account = Account(id: "c", balances: ["USDC": 1e7], positions: [Position(instrument: call.name, quantity: quantity)])
            let unit = try calculator.margin(account: account, catalog: catalog, markets: markets, asOfMs: asOf).riskUnits[0]
            let tail = unit.scenarioPnLs.count - 1
            #expect(Self.close(unit.scenarioPnLs[tail], min(0, unit.unadjustedScenarioPnLs[tail] + 25_000)))
        }
    }

    @Test("Coin-margined: an inverse perpetual's vector is q·(1 − 1/G) coins; an inverse option's is its coin value's change")
    func coinMargined() throws {
        let unit = Self.deribitUnit()
        let (calculator, catalog, markets) = try Self.world(valuation: "BTC", unit: unit)
        let asOf = markets["BTC"]!.timestampMs
        // 0.3 BTC of face at the mark, entered at the mark.
        let coins = 0.3
        let perp = Account(id: "i", positions: [Position(instrument: "BTC-INVERSE-PERP", quantity: coins * 60_000, averageEntryPrice: 60_000)])
        let pnls = try calculator.margin(account: perp, catalog: catalog, markets: markets, asOfMs: asOf).riskUnits[0].scenarioPnLs
        for (column, scenario) in unit.scenarios.enumerated() {
            let shock = scenario.kind == .tail ? min(max(scenario.spotShock, 0.84), 1.16) : scenario.spotShock
            #expect(Self.close(pnls[column], coins * (1 - 1 / shock)), "column \(column)")
        }
        #expect(calculator.valuationFollows("BTC", catalog: catalog))
        // An inverse call, against Black-76 directly: V(F·G, σ')/(F·G) − V(F, σ)/F coins per contract.
        var inverseCatalog = catalog
        let linearCall = try #require(catalog.options(on: "BTC").first { if case .option(_, _, .call) = $0.kind { return true } else { return false } })
        guard case .option(let expiryMs, let strike, _) = linearCall.kind else { return }
        let name = "BTC-INV-CALL"
        inverseCatalog.insert(Instrument(name: name, underlying: "BTC", kind: .option(expiryMs: expiryMs, strike: strike, right: .call),
                                         settlement: .inverse, contractSize: 1))
        let book = try calculator.riskBook(for: "BTC", catalog: inverseCatalog, markets: markets, asOfMs: asOf)
        let slot = try #require(book.slot(of: name))
        let group = book.expiryGroup(ofSlot: slot)
        let sigma = book.markVolatilities[slot]
        let now = Black76.price(Black76Inputs(forward: group.forward, strike: strike, timeToExpiry: group.timeToExpiry, volatility: sigma,
                                              rate: group.rate, right: .call, settlement: .inverse))
        for column in [0, 1, 2, 13, 26] {
            let scenario = unit.scenarios[column]
            let vol = scenario.volatilityShock == .up ? max(0.5, sigma * group.volatilityUp)
                : (scenario.volatilityShock == .down ? sigma * group.volatilityDown : sigma)
            let shocked = Black76.price(Black76Inputs(forward: group.forward * scenario.spotShock, strike: strike, timeToExpiry: group.timeToExpiry,
                                                      volatility: vol, rate: group.rate, right: .call, settlement: .inverse))
            let engine = book.scenarioValue(slot: slot, scenario: column) - book.currentValue(slot: slot)
            #expect(Self.close(engine, shocked - now, 1e-7), "column \(column)")
        }
    }

    @Test("Balances linked to a coin-margined unit's own coin move nothing; the valuation asset is cash")
    func coinMarginedLinkedBalance() throws {
        var unit = Self.deribitUnit()
        unit.rollShock = nil
        let (calculator, catalog, markets) = try Self.world(valuation: "BTC", unit: unit)
        let account = Account(id: "b", balances: ["BTC": 3], positions: [])
        let result = try calculator.margin(account: account, catalog: catalog, markets: markets, asOfMs: markets["BTC"]!.timestampMs)
        #expect(result.riskUnits.isEmpty)
        #expect(result.maintenanceRequirement == 0 && result.equity == 3)
    }
}

/// Theta over the margin period: the scenarios revalue options `scenarioAgingDays` later.
@Suite("Scenario aging")
struct ScenarioAgingTests {
    @Test("An aged book's scenario values are Black-76 at τ − h; its current value is not aged")
    func agedColumns() throws {
        var parameters = SyntheticBook.parameters()
        parameters.riskUnits["BTC"]!.scenarioAgingDays = 2
        let (market, catalog) = SyntheticBook.market(strikesPerExpiry: 4)
        let book = try MarginCalculator(parameters: parameters).riskBook(for: "BTC", catalog: catalog, markets: MarketState([market]),
                                                                          asOfMs: market.timestampMs)
        for slot in 0..<book.instruments.count {
            let instrument = book.instruments[slot]
            guard case .option(_, let strike, let right) = instrument.kind else { continue }
            let group = book.expiryGroup(ofSlot: slot)
            let sigma = book.markVolatilities[slot]
            func price(_ tau: Double, forward: Double, vol: Double) -> Double {
                Black76.price(Black76Inputs(forward: forward, strike: strike, timeToExpiry: tau, volatility: vol, rate: group.rate, right: right,
                                            settlement: instrument.settlement))
            }
            let now = price(group.timeToExpiry, forward: group.forward, vol: sigma)
            // Column 19 is spot 1.0 × vol none in the synthetic grid (13 points × 3 shocks).
            let column = 19
            let shock = parameters.riskUnits["BTC"]!.scenarios[column]
            #expect(shock.spotShock == 1 && shock.volatilityShock == .none)
            let aged = price(max(group.timeToExpiry - 2 / 365, 0), forward: group.forward, vol: sigma)
            #expect(abs(book.currentValue(slot: slot) - now) < 1e-7 * max(1, now))
            #expect(abs(book.scenarioValue(slot: slot, scenario: column) - aged) < 1e-7 * max(1, aged))
            let outOfTheMoney = right == .call ? strike > group.forward : strike < group.forward
            if outOfTheMoney { #expect(aged < now, "theta: an out-of-the-money option loses value over two days") }
        }
    }
}
