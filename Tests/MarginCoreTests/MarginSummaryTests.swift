import Testing
@testable import MarginCore
import MarginTesting

/// The summary (the hot path: no text, stack scratch, naked shorts netted when the exposure is
/// compiled) against the explanation, and the bare aggregation against the explained scenario PnLs,
/// on random accounts that reach every branch: per-expiry rules, delta-one positions, linked
/// balances, several underlyings, calls and puts at one strike.
@Suite("Margin summary fast path")
struct MarginSummaryTests {
    struct World {
        var catalog: InstrumentCatalog
        var markets: MarketState
        var parameters: RiskParameters
        var books: [String: RiskBook]
        var calculator: MarginCalculator
    }

    /// Which optional rules the world's parameters switch on.
    enum Rules: String, CaseIterable, CustomTestStringConvertible {
        /// The plain grid.
        case none
        /// BTC with static discount, basis contingency and imperfect oracle confidence.
        case perExpiry
        /// Both units with Deribit's risk-matrix rules: delta-one at the standard-range edge in the
        /// tails, the extended dampener, gain credit across units (d = 0.5), roll and delta shock.
        case deribit

        var testDescription: String { rawValue }
    }

    /// BTC and ETH with the rules of `rules` (ETH keeps the plain grid unless Deribit's rules are on).
    static func world(rules: Bool) throws -> World { try world(rules ? .perExpiry : .none) }

    static func world(_ rules: Rules) throws -> World {
        var btc = SyntheticBook.market(underlying: "BTC", index: 60_000, strikesPerExpiry: 8)
        let eth = SyntheticBook.market(underlying: "ETH", index: 3_000, strikesPerExpiry: 8)
        var parameters = SyntheticBook.parameters()
        parameters.riskUnits["ETH"] = parameters.riskUnits["BTC"]
        parameters.collateral["ETH"] = CollateralParameters(maintenanceHaircut: 0.05, initialHaircut: 0.1)
        if rules == .deribit {
            for underlying in ["BTC", "ETH"] {
                var unit = parameters.riskUnits[underlying]!
                unit.scenarios += [Scenario(spotShock: 0.67, volatilityShock: .up, kind: .tail),
                                   Scenario(spotShock: 3, volatilityShock: .up, kind: .tail)]
                unit.deltaOneInTail = .standardRangeEdge
                unit.extendedDampener = 5_000
                unit.gainCredit = GainCreditRule(pnlOffset: 0.4, maxOffsetablePnl: 20_000)
                unit.rollShock = RollShockRule(annualisedMoveRisk: 0.1, minimumAnnualisedMove: 0.01)
                unit.deltaShock = DeltaShockRule(maxShock: 0.1, liquidityThreshold: 100_000)
                parameters.riskUnits[underlying] = unit
            }
            parameters.decorrelation = 0.5
        }
        if rules == .perExpiry {
            parameters.riskUnits["BTC"]!.staticDiscount = StaticDiscountRule(
                positiveBase: 0.98, positiveRateMultiplier: 1, positiveRateAdd: 0.01,
                negativeBase: 1.02, negativeRateMultiplier: 1, negativeRateAdd: 0.01)
            parameters.riskUnits["BTC"]!.basisContingency = BasisContingencyRule(spotUp: 1.03, spotDown: 0.97, addFactor: 0.5, multFactor: 0.2)
            parameters.confidenceContingency = ConfidenceContingencyRule(threshold: 0.99, margin: 0.5)
            btc.market.indexConfidence = 0.97
            btc.market.perpetualConfidence = 0.96
            btc.market.expiries[1].forwardConfidence = 0.95
        }
        let catalog = InstrumentCatalog(btc.catalog.options(on: "BTC") + eth.catalog.options(on: "ETH")
            + [btc.catalog["BTC-PERPETUAL"]!, Instrument(name: "BTC", underlying: "BTC", kind: .spot),
               Instrument(name: "ETH", underlying: "ETH", kind: .spot)])
        let markets = MarketState([btc.market, eth.market])
        let calculator = MarginCalculator(parameters: parameters)
        var books: [String: RiskBook] = [:]
        for underlying in ["BTC", "ETH"] {
            books[underlying] = try calculator.riskBook(for: underlying, catalog: catalog, markets: markets, asOfMs: btc.market.timestampMs)
        }
        return World(catalog: catalog, markets: markets, parameters: parameters, books: books, calculator: calculator)
    }

    /// Options on both underlyings (some as call and put of one strike, long and short), now and
    /// then a perpetual and coin balances.
    static func account(_ index: Int, world: World, generator: inout SeededGenerator) -> Account {
        var positions: [String: Double] = [:]
        for underlying in ["BTC", "ETH"] where index % 3 != 2 || underlying == "BTC" {
            let options = world.catalog.options(on: underlying)
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                let slot = Int.random(in: 0..<options.count, using: &generator) & ~1 // a call; its put is next
                positions[options[slot].name] = Double(Int.random(in: -5...5, using: &generator)) + 0.5
                if Bool.random(using: &generator) { positions[options[slot + 1].name] = Double(Int.random(in: -5...5, using: &generator)) }
            }
        }
        if index % 2 == 0 { positions["BTC-PERPETUAL"] = Double(Int.random(in: -3...3, using: &generator)) + 0.25 }
        var balances: [String: Double] = ["USDC": 500_000]
        if index % 4 == 1 { balances["BTC"] = 2; balances["ETH"] = -10 }
        return Account(id: "a\(index)", balances: balances,
                       positions: positions.sorted { $0.key < $1.key }.map { Position(instrument: $0.key, quantity: $0.value, averageEntryPrice: 59_000) })
    }

    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-12 * max(1, abs(a), abs(b)) }

    /// Open orders for some accounts: a buy and a sell on BTC options, a perpetual order, an MMP quote.
    static func orders(_ index: Int, world: World, generator: inout SeededGenerator) -> [OpenOrder] {
        guard index % 3 == 0 else { return [] }
        let options = world.catalog.options(on: "BTC")
        let option = options[Int.random(in: 0..<options.count, using: &generator)]
        var orders = [
            OpenOrder(id: "o1", instrument: option.name, side: .buy, quantity: Double(Int.random(in: 1...4, using: &generator)), limitPrice: 900),
            OpenOrder(id: "o2", instrument: options[(options.count / 2)].name, side: .sell, quantity: 3, limitPrice: 1_500),
            OpenOrder(id: "o3", instrument: "BTC-PERPETUAL", side: Bool.random(using: &generator) ? .buy : .sell, quantity: 2, limitPrice: 60_100),
        ]
        if index % 2 == 0 {
            orders.append(OpenOrder(id: "q1", instrument: options[3].name, side: .sell, quantity: 10, limitPrice: 2_000, mmpQuoteSize: 4))
        }
        return orders
    }

    @Test("Summary equals the explanation on random accounts", arguments: Rules.allCases)
    func summaryMatchesExplanation(rules: Rules) throws {
        let w = try Self.world(rules)
        var generator = SeededGenerator(seed: rules == .none ? 12 : (rules == .perExpiry ? 11 : 13))
        var seen: [String: Int] = [:]
        for index in 0..<60 {
            var account = Self.account(index, world: w, generator: &generator)
            if rules == .deribit { account.openOrders = Self.orders(index, world: w, generator: &generator) }
            let exposure = try AccountExposure(account: account, catalog: w.catalog, books: w.books, parameters: w.parameters)
            let summary = try w.calculator.summary(exposure, books: w.books, markets: w.markets)
            let explained = try w.calculator.explain(exposure, books: w.books, markets: w.markets)
            #expect(Self.close(summary.maintenanceRequirement, explained.maintenanceRequirement))
            #expect(Self.close(summary.initialRequirement, explained.initialRequirement))
            #expect(Self.close(summary.equity, explained.equity))
            #expect(Self.close(summary.initialEquity, explained.initialEquity))
            #expect(summary.health == explained.health)
            // The explanation adds up: each unit's requirements from its allocated loss, factors and
            // charges; the account's from the units and the account-level charges.
            var maintenance = 0.0, initial = 0.0
            for unit in explained.riskUnits {
                let charges = unit.contingencies.reduce((0.0, 0.0)) { ($0.0 + $1.maintenance, $0.1 + $1.initial) }
                #expect(Self.close(unit.maintenanceRequirement, unit.maintenanceFactor * unit.allocatedLoss + charges.0))
                #expect(Self.close(unit.initialRequirement, unit.initialFactor * unit.allocatedLoss + charges.1))
                maintenance += unit.maintenanceRequirement
                initial += unit.initialRequirement
                // The binding column's contributions sum to its PnL before the adjustment.
                if let binding = unit.bindingScenario {
                    let raw = unit.unadjustedScenarioPnLs.isEmpty ? unit.scenarioPnLs : unit.unadjustedScenarioPnLs
                    #expect(Self.close(unit.contributions.reduce(0) { $0 + $1.pnl }, raw[binding]))
                }
            }
            for charge in explained.accountContingencies {
                maintenance += charge.maintenance
                initial += charge.initial
            }
            #expect(Self.close(maintenance, explained.maintenanceRequirement))
            #expect(Self.close(initial, explained.initialRequirement))
            for name in explained.riskUnits.flatMap(\.contingencies).map(\.name) + explained.accountContingencies.map(\.name) {
                seen[name, default: 0] += 1
            }
            if explained.riskUnits.contains(where: { !$0.unadjustedScenarioPnLs.isEmpty && $0.unadjustedScenarioPnLs != $0.scenarioPnLs }) {
                seen["adjusted", default: 0] += 1
            }
            if explained.riskModel.correlationContingency > 0 { seen["correlation", default: 0] += 1 }
        }
        if rules == .deribit {
            // Every rule was exercised.
            for name in ["roll_shock", "delta_shock", "open_orders_margin", "mmp_margin", "adjusted", "correlation"] {
                #expect(seen[name, default: 0] > 0, "\(name) never charged")
            }
        }
    }

    @Test("Naked short units: per expiry and strike, shorts net of longs, calls and puts together")
    func nakedShorts() throws {
        let w = try Self.world(rules: true)
        let options = w.catalog.options(on: "BTC")
        // Strike A: call −3, put +1 → 2 naked; strike B: call −1 → 1; strike C (next expiry): put +4 → 0.
        let account = Account(id: "n", balances: ["USDC": 1e6], positions: [
            Position(instrument: options[0].name, quantity: -3), Position(instrument: options[1].name, quantity: 1),
            Position(instrument: options[2].name, quantity: -1), Position(instrument: options[17].name, quantity: 4),
        ])
        let exposure = try AccountExposure(account: account, catalog: w.catalog, books: w.books, parameters: w.parameters)
        #expect(exposure.units.map(\.nakedShortUnits) == [3])
        let explained = try w.calculator.explain(exposure, books: w.books, markets: w.markets)
        let charge = try #require(explained.riskUnits[0].contingencies.first { $0.name == "short_option" })
        #expect(Self.close(charge.maintenance, 3 * 60_000 * 0.01))
    }

    @Test("The bare aggregation's worst option PnL is the worst explained scenario (option-only accounts)")
    func bareAggregation() throws {
        let w = try Self.world(rules: false)
        var generator = SeededGenerator(seed: 5)
        for index in 0..<40 {
            var account = Self.account(index, world: w, generator: &generator)
            account.positions.removeAll { !($0.instrument.hasPrefix("BTC-") && !$0.instrument.hasSuffix("PERPETUAL")) }
            account.balances = ["USDC": 1e6]
            let exposure = try AccountExposure(account: account, catalog: w.catalog, books: w.books, parameters: w.parameters)
            let explained = try w.calculator.explain(exposure, books: w.books, markets: w.markets)
            let worst = min(0, explained.riskUnits[0].scenarioPnLs.min() ?? 0)
            #expect(Self.close(w.books["BTC"]!.worstOptionScenarioPnL(of: exposure), worst))
        }
    }
}
