import Testing
@testable import MarginCore
import MarginTesting

/// Liquidatable accounts whose single legs cannot be closed "beneficially"
/// (offsetting structures) are still planned: structures close together in proportion, and when
/// nothing reduce-only restores the target the plan closes everything out.
@Suite("Liquidation planner on option structures")
struct LiquidationStructureTests {
    static let now: Int64 = 1_700_000_000_000
    static let day: Int64 = 86_400_000

    /// BTC after a −30 % crash (index 42,000) with a 7-day expiry carrying the 48,000 and 54,000 puts.
    static func crashedMarket() -> (MarginCalculator, InstrumentCatalog, MarketState, [String: RiskBook]) {
        let expiry = now + 7 * day
        let instruments = [48_000.0, 54_000].map { strike in
            Instrument(name: "BTC-7D-\(Int(strike))-P", underlying: "BTC", kind: .option(expiryMs: expiry, strike: strike, right: .put), lotSize: 0.1)
        }
        let t = 7.0 / 365
        let calculator = MarginCalculator(parameters: SyntheticBook.parameters())
        let catalog = InstrumentCatalog(instruments)
        func market(books: [String: OrderBook]) -> UnderlyingMarket {
            UnderlyingMarket(underlying: "BTC", timestampMs: now, indexPrice: 42_000, expiries: [
                ExpiryMarket(expiryMs: expiry, forward: 42_020, rate: 0.03,
                             smile: SVIParameters(a: 0.8 * 0.8 * t * 0.8, b: 0.1 * t.squareRoot(), rho: -0.3, m: 0.02, sigma: 0.2)),
            ], perpetualMark: 42_000, orderBooks: books)
        }
        // Books 10 USD wide around each put's mark, 50 contracts a side.
        let bare = MarketState([market(books: [:])])
        let bareBooks = ["BTC": try! calculator.riskBook(for: "BTC", catalog: catalog, markets: bare, asOfMs: now)]
        let marks = try! calculator.explain(
            AccountExposure(account: Account(id: "m", positions: instruments.map { Position(instrument: $0.name, quantity: 1) }),
                            catalog: catalog, books: bareBooks, parameters: calculator.parameters),
            books: bareBooks, markets: bare).equityComponents.filter { $0.kind == .position }
        var quotes: [String: OrderBook] = [:]
        for mark in marks { quotes[mark.name] = OrderBook(bidPrice: mark.value - 5, bidSize: 50, askPrice: mark.value + 5, askSize: 50) }
        let markets = MarketState([market(books: quotes)])
        let books = ["BTC": try! calculator.riskBook(for: "BTC", catalog: catalog, markets: markets, asOfMs: now)]
        return (calculator, catalog, markets, books)
    }

    static func summary(_ account: Account, _ calculator: MarginCalculator, _ catalog: InstrumentCatalog, _ books: [String: RiskBook],
                        _ markets: MarketState) throws -> MarginSummary {
        try calculator.summary(AccountExposure(account: account, catalog: catalog, books: books, parameters: calculator.parameters),
                               books: books, markets: markets)
    }

    @Test("A deep-ITM put spread below maintenance: closing either leg alone raises MM, closing both together restores the target")
    func putSpreadIsPlanned() throws {
        let (calculator, catalog, markets, books) = Self.crashedMarket()
        var account = Account(id: "spread", version: 3, balances: ["USDC": 0], positions: [
            Position(instrument: "BTC-7D-54000-P", quantity: -10.4), Position(instrument: "BTC-7D-48000-P", quantity: 10.4),
        ])
        let gross = try Self.summary(account, calculator, catalog, books, markets)
        account.balances["USDC"] = gross.maintenanceRequirement * 0.45 - gross.equity
        let start = try Self.summary(account, calculator, catalog, books, markets)
        #expect(start.equity < start.maintenanceRequirement && start.equity > 10)
        // Either leg alone raises MM: the single-leg greedy step of the old planner found nothing.
        for index in account.positions.indices {
            var single = account
            single.positions[index].quantity = 0
            #expect(try Self.summary(single, calculator, catalog, books, markets).maintenanceRequirement > start.maintenanceRequirement)
        }
        let planner = LiquidationPlanner(calculator: calculator, policy: LiquidationPolicy(penaltyRate: 0.001))
        let plan = try #require(try planner.plan(account: account, catalog: catalog, books: books, markets: markets))
        #expect(plan.legs.count == 2)
        #expect(plan.meetsTarget && !plan.fellBackToCloseOut && !plan.fullCloseOut)
        #expect(Set(plan.legs.map(\.instrument)) == ["BTC-7D-54000-P", "BTC-7D-48000-P"])
        let short = try #require(plan.legs.first { $0.instrument == "BTC-7D-54000-P" })
        let long = try #require(plan.legs.first { $0.instrument == "BTC-7D-48000-P" })
        #expect(short.side == .buy && long.side == .sell)
        #expect(abs(short.quantity - long.quantity) <= 0.1 + 1e-9, "closed in proportion (to a lot)")
        #expect(short.quantity < 10.4, "reduce-only: the target is met before the whole spread is closed")
        #expect(plan.expectedEquityAfter >= plan.expectedMaintenanceAfter * 1.15 - 1e-6)
    }

    /// A random book of structures on the synthetic BTC chain: vertical spreads, boxes, butterflies
    /// and calendars, each long or short, with an occasional perpetual hedge.
    static func structuredAccount(_ index: Int, catalog: InstrumentCatalog, using generator: inout SeededGenerator) -> Account {
        var byKey: [String: String] = [:]
        var expiries = Set<Int64>()
        var strikes: [Int64: [Double]] = [:]
        for option in catalog.options(on: "BTC") {
            guard case .option(let expiry, let strike, let right) = option.kind else { continue }
            byKey["\(expiry)/\(strike)/\(right)"] = option.name
            expiries.insert(expiry)
            strikes[expiry, default: []].append(strike)
        }
        let expiryList = expiries.sorted()
        var quantities: [String: Double] = [:]
        func add(_ expiry: Int64, _ strike: Double, _ right: OptionRight, _ quantity: Double) {
            guard let name = byKey["\(expiry)/\(strike)/\(right)"] else { return }
            quantities[name, default: 0] += quantity
        }
        for _ in 0..<Int.random(in: 1...3, using: &generator) {
            let e = Int.random(in: 0..<(expiryList.count - 1), using: &generator)
            let expiry = expiryList[e]
            let ks = Array(Set(strikes[expiry]!)).sorted()
            let i = Int.random(in: 0..<(ks.count - 4), using: &generator)
            let gap = Int.random(in: 1...2, using: &generator)
            let (k1, k2, k3) = (ks[i], ks[i + gap], ks[i + 2 * gap])
            let q = Double(Int.random(in: 1...60, using: &generator)) / 2 * (Bool.random(using: &generator) ? 1 : -1)
            let right: OptionRight = Bool.random(using: &generator) ? .call : .put
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: // vertical spread
                add(expiry, k1, right, q); add(expiry, k2, right, -q)
            case 1: // box
                add(expiry, k1, .call, q); add(expiry, k2, .call, -q); add(expiry, k2, .put, q); add(expiry, k1, .put, -q)
            case 2: // butterfly
                add(expiry, k1, right, q); add(expiry, k2, right, -2 * q); add(expiry, k3, right, q)
            default: // calendar at the same strike
                let far = expiryList[e + 1]
                let strike = Array(Set(strikes[far]!)).sorted().min { abs($0 - k2) < abs($1 - k2) }!
                add(expiry, strike, right, -q); add(far, strike, right, q)
            }
        }
        var positions = quantities.sorted { $0.key < $1.key }.filter { $0.value != 0 }.map { Position(instrument: $0.key, quantity: $0.value) }
        if Int.random(in: 0..<4, using: &generator) == 0 {
            positions.append(Position(instrument: "BTC-PERPETUAL", quantity: Double(Int.random(in: -20...20, using: &generator)) / 4, averageEntryPrice: 60_000))
        }
        return Account(id: "structures-\(index)", version: 1, balances: ["USDC": 0], positions: positions.filter { $0.quantity != 0 })
    }

    @Test("Properties over random spreads, boxes, butterflies and calendars: every liquidatable account gets a plan that meets the target or closes out fully")
    func structuresProperty() throws {
        let setup = SyntheticBook.market(strikesPerExpiry: 12)
        let calculator = MarginCalculator(parameters: SyntheticBook.parameters())
        let markets = MarketState([setup.market])
        let books = ["BTC": try calculator.riskBook(for: "BTC", catalog: setup.catalog, markets: markets, asOfMs: setup.market.timestampMs)]
        let planner = LiquidationPlanner(calculator: calculator, policy: LiquidationPolicy(penaltyRate: 0.001))
        var generator = SeededGenerator(seed: 12)
        var planned = 0, structureSteps = 0, fallbacks = 0
        for index in 0..<80 {
            var account = Self.structuredAccount(index, catalog: setup.catalog, using: &generator)
            guard !account.positions.isEmpty else { continue }
            let gross = try Self.summary(account, calculator, setup.catalog, books, markets)
            guard gross.maintenanceRequirement > 1_000 else { continue }
            // Equity between 20 % and 95 % of MM: liquidatable, not bankrupt.
            let level = Double.random(in: 0.2...0.95, using: &generator)
            account.balances["USDC"] = gross.maintenanceRequirement * level - gross.equity
            let start = try Self.summary(account, calculator, setup.catalog, books, markets)
            try #require(start.equity < start.maintenanceRequirement && start.equity > 10)

            let plan = try #require(try planner.plan(account: account, catalog: setup.catalog, books: books, markets: markets),
                                    "account \(index) is liquidatable and must get a plan")
            planned += 1
            #expect(try planner.plan(account: account, catalog: setup.catalog, books: books, markets: markets) == plan, "deterministic")
            #expect(!plan.legs.isEmpty)
            var after = account
            for leg in plan.legs {
                let position = try #require(after.positions.firstIndex { $0.instrument == leg.instrument })
                let held = after.positions[position].quantity
                #expect(leg.quantity > 0 && leg.quantity <= abs(held) + 1e-9, "reduce-only")
                #expect((leg.side == .sell) == (held > 0))
                after.positions[position].quantity -= (held > 0 ? 1 : -1) * leg.quantity
            }
            if plan.fullCloseOut {
                #expect(after.positions.allSatisfy { abs($0.quantity) < 1e-9 }, "a full close-out closes every position (no budget caps here)")
            } else {
                #expect(plan.meetsTarget, "account \(index): a reduce-only plan must meet the target")
                #expect(plan.expectedEquityAfter >= plan.expectedMaintenanceAfter * 1.15 - 1e-6 * max(1, plan.expectedMaintenanceAfter))
            }
            if plan.fellBackToCloseOut { fallbacks += 1 }
            let touched = Set(plan.legs.map(\.instrument))
            if !plan.fullCloseOut && touched.count > 1 { structureSteps += 1 }
        }
        #expect(planned >= 40)
        #expect(structureSteps > 0, "some plans unwind structures together")
        print("structures: \(planned) planned, \(structureSteps) multi-leg reduce-only, \(fallbacks) full close-out fallbacks")
    }

    @Test("The sizing bisection that stops once its bounds round to the same lots plans exactly what all 40 halvings plan, for lots from 1e-4 to 1 contract")
    func bisectionStopsAtLotsExactly() throws {
        let setup = SyntheticBook.market(strikesPerExpiry: 12)
        let calculator = MarginCalculator(parameters: SyntheticBook.parameters())
        let markets = MarketState([setup.market])
        var compared = 0, partial = 0
        for lot in [1e-4, 0.01, 0.1, 1.0] {
            var catalog = setup.catalog
            for name in catalog.byName.keys.sorted() {
                var instrument = catalog[name]!
                instrument.lotSize = lot
                catalog.insert(instrument)
            }
            let books = ["BTC": try calculator.riskBook(for: "BTC", catalog: catalog, markets: markets, asOfMs: setup.market.timestampMs)]
            let fast = LiquidationPlanner(calculator: calculator, policy: LiquidationPolicy(penaltyRate: 0.001))
            var exhaustive = fast
            exhaustive.stopsBisectionAtLots = false
            var generator = SeededGenerator(seed: 31)
            for index in 0..<40 {
                var account = Self.structuredAccount(index, catalog: catalog, using: &generator)
                guard !account.positions.isEmpty else { continue }
                let gross = try Self.summary(account, calculator, catalog, books, markets)
                guard gross.maintenanceRequirement > 1_000 else { continue }
                account.balances["USDC"] = gross.maintenanceRequirement * Double.random(in: 0.2...0.95, using: &generator) - gross.equity
                let plan = try fast.plan(account: account, catalog: catalog, books: books, markets: markets)
                #expect(plan == (try exhaustive.plan(account: account, catalog: catalog, books: books, markets: markets)), "lot \(lot), account \(index)")
                compared += 1
                if plan.map({ !$0.fullCloseOut && !$0.legs.isEmpty }) == true { partial += 1 }
            }
        }
        #expect(compared >= 120 && partial >= 40, "\(compared) compared, \(partial) partial plans (sized by the bisection)")
    }
}
