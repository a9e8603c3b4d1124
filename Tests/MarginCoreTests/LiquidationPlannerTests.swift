import Testing
@testable import MarginCore
import MarginTesting

@Suite("Liquidation planner")
struct LiquidationPlannerTests {
    /// One perpetual on `X` at `price`, a single scenario losing `lossRate` of notional, MM = that loss.
    /// Without `book`, a zero-spread book too deep to move: closing costs nothing but the penalty
    /// (a market without any book has a no-book cost, see `LiquidityPlannerTests`).
    static func setup(lossRate: Double, price: Double = 1, lot: Double = 1e-9, book: OrderBook? = nil)
        -> (MarginCalculator, InstrumentCatalog, MarketState) {
        let book = book ?? OrderBook(bidPrice: price, bidSize: 1e12, askPrice: price, askSize: 1e12)
        let unit = RiskUnitParameters(scenarios: [Scenario(spotShock: 1 - lossRate, volatilityShock: .none)],
                                      volatilityShock: VolatilityShockRule(rangeUp: 0, rangeDown: 0, shortTermPower: 0, longTermPower: 0),
                                      maintenanceFactor: 1, initialFactor: 1)
        let parameters = RiskParameters(id: "test", version: 1, valuationAsset: "USD", riskUnits: ["X": unit])
        let catalog = InstrumentCatalog([Instrument(name: "X-PERP", underlying: "X", kind: .perpetual, lotSize: lot)])
        let market = UnderlyingMarket(underlying: "X", timestampMs: 1, indexPrice: price, perpetualMark: price,
                                      orderBooks: ["X-PERP": book])
        return (MarginCalculator(parameters: parameters), catalog, MarketState([market]))
    }

    static func plan(equity: Double, notional: Double, lossRate: Double, price: Double = 1, penalty: Double = 0, buffer: Double = 0,
                     book: OrderBook? = nil, lot: Double = 1e-9, caps: [String: Double] = [:]) throws -> LiquidationPlan? {
        let (calculator, catalog, markets) = setup(lossRate: lossRate, price: price, lot: lot, book: book)
        let account = Account(id: "a", version: 1, balances: ["USD": equity],
                              positions: [Position(instrument: "X-PERP", quantity: notional / price, averageEntryPrice: price)])
        let books = ["X": try calculator.riskBook(for: "X", catalog: catalog, markets: markets, asOfMs: 1)]
        let planner = LiquidationPlanner(calculator: calculator, policy: LiquidationPolicy(
            targetBuffer: buffer, closeOutEquity: 0, depthFraction: 1, penaltyRate: penalty, impactCoefficient: 0))
        return try planner.plan(account: account, catalog: catalog, books: books, markets: markets, caps: caps)
    }

    @Test("Equity 1,000, position 1,500, requirement 80%: the position becomes 1,250")
    func firstKnownAnswer() throws {
        let plan = try #require(try Self.plan(equity: 1_000, notional: 1_500, lossRate: 0.8))
        #expect(plan.legs.count == 1)
        #expect(plan.legs[0].side == .sell)
        #expect(abs(plan.legs[0].quantity - 250) < 1e-6)
        #expect(abs(plan.expectedMaintenanceAfter - 1_000) < 1e-6)
        #expect(plan.reason == .maintenanceBreach && plan.meetsTarget)
    }

    @Test("Equity 700, position 1,200, requirement 60%: the position becomes 1,166.67")
    func secondKnownAnswer() throws {
        let plan = try #require(try Self.plan(equity: 700, notional: 1_200, lossRate: 0.6))
        #expect(abs((1_200 - plan.legs[0].quantity) - 1_166.666_666_7) < 1e-5)
    }

    @Test("Shortfall 10 at 10x and price 100: 1 unit without fee, 10/9 units with a 1% fee")
    func feeAware() throws {
        let free = try #require(try Self.plan(equity: 90, notional: 1_000, lossRate: 0.1, price: 100))
        #expect(abs(free.legs[0].quantity - 1) < 1e-6)
        let fee = try #require(try Self.plan(equity: 90, notional: 1_000, lossRate: 0.1, price: 100, penalty: 0.01))
        #expect(abs(fee.legs[0].quantity - 10.0 / 9.0) < 1e-6)
        #expect(abs(fee.legs[0].expectedCost - 100 * 10.0 / 9.0 * 0.01) < 1e-6)
    }

    @Test("The target buffer is restored, not merely MM")
    func buffer() throws {
        let plan = try #require(try Self.plan(equity: 1_000, notional: 1_500, lossRate: 0.8, buffer: 0.15))
        let remaining = 1_500 - plan.legs[0].quantity
        #expect(abs(0.8 * remaining * 1.15 - 1_000) < 1e-5)
    }

    @Test("Healthy accounts get no plan; bankrupt accounts are closed out with the deficit")
    func healthyAndBankrupt() throws {
        #expect(try Self.plan(equity: 2_000, notional: 1_500, lossRate: 0.8) == nil)
        // Equity −50 after a loss: close everything, deficit for the insurance fund.
        let (calculator, catalog, markets) = Self.setup(lossRate: 0.2, price: 1)
        let account = Account(id: "b", balances: ["USD": 50],
                              positions: [Position(instrument: "X-PERP", quantity: 1_000, averageEntryPrice: 1.1)])
        let books = ["X": try calculator.riskBook(for: "X", catalog: catalog, markets: markets, asOfMs: 1)]
        let plan = try #require(try LiquidationPlanner(calculator: calculator, policy: LiquidationPolicy(penaltyRate: 0))
            .plan(account: account, catalog: catalog, books: books, markets: markets))
        #expect(plan.reason == .bankrupt)
        #expect(plan.legs.map(\.quantity) == [1_000])
        #expect(abs(plan.estimatedDeficit - 50) < 1e-9)
    }

    @Test("Chunks respect the displayed depth and the anti-cascade cap; lots are rounded up")
    func depthAndCaps() throws {
        let book = OrderBook(bidPrice: 0.99, bidSize: 100, askPrice: 1.01, askSize: 100)
        let plan = try #require(try Self.plan(equity: 1_000, notional: 1_500, lossRate: 0.8, book: book, lot: 1))
        // 250 needed, but depth 100 per chunk: the leg is still one instrument, rounded to lots.
        #expect(plan.legs[0].quantity == plan.legs[0].quantity.rounded())
        #expect(plan.legs[0].quantity >= 250)
        #expect(plan.legs[0].limitPrice < 1)
        let capped = try #require(try Self.plan(equity: 1_000, notional: 1_500, lossRate: 0.8, caps: ["X-PERP": 100]))
        #expect(capped.legs[0].quantity <= 100 + 1e-9)
        #expect(!capped.meetsTarget)
    }

    @Test("Properties over random books: reduce-only, target met, no gratuitous legs, deterministic")
    func properties() throws {
        let setup = SyntheticBook.market(strikesPerExpiry: 6)
        let parameters = SyntheticBook.parameters()
        let calculator = MarginCalculator(parameters: parameters)
        let markets = MarketState([setup.market])
        let books = ["BTC": try calculator.riskBook(for: "BTC", catalog: setup.catalog, markets: markets, asOfMs: setup.market.timestampMs)]
        let planner = LiquidationPlanner(calculator: calculator, policy: LiquidationPolicy(penaltyRate: 0.001))
        var planned = 0
        for var account in SyntheticBook.accounts(count: 60, positions: 6, catalog: setup.catalog, seed: 21) {
            let exposure = try AccountExposure(account: account, catalog: setup.catalog, books: books, parameters: parameters)
            let summary = try calculator.summary(exposure, books: books, markets: markets)
            // Cash so that the account sits just below maintenance.
            account.balances = ["USDC": 0]
            let gross = try calculator.summary(AccountExposure(account: account, catalog: setup.catalog, books: books, parameters: parameters),
                                               books: books, markets: markets).equity
            account.balances["USDC"] = summary.maintenanceRequirement * 0.9 - gross
            guard let plan = try planner.plan(account: account, catalog: setup.catalog, books: books, markets: markets) else { continue }
            planned += 1
            let again = try planner.plan(account: account, catalog: setup.catalog, books: books, markets: markets)
            #expect(again == plan)
            var after = account
            for leg in plan.legs {
                let index = try #require(after.positions.firstIndex { $0.instrument == leg.instrument })
                let before = after.positions[index].quantity
                #expect(leg.quantity > 0 && leg.quantity <= abs(before) + 1e-9)
                #expect((leg.side == .sell) == (before > 0))
                after.positions[index].quantity -= (before > 0 ? 1 : -1) * leg.quantity
            }
            if plan.meetsTarget && plan.reason == .maintenanceBreach {
                #expect(plan.expectedEquityAfter >= plan.expectedMaintenanceAfter * 1.15 - 1e-6 * max(1, plan.expectedMaintenanceAfter))
                // Dropping any whole leg misses the target (no gratuitous closes).
                if plan.legs.count > 1 {
                    // Closing at the mark moves the closed value into cash.
                    let explained = try calculator.explain(AccountExposure(account: account, catalog: setup.catalog, books: books, parameters: parameters),
                                                           books: books, markets: markets)
                    let unitValue = Dictionary(explained.equityComponents.filter { $0.kind == .position }.map { ($0.name, $0.value / $0.quantity) },
                                               uniquingKeysWith: { a, _ in a })
                    for skipped in plan.legs.indices {
                        var partial = account
                        var cost = 0.0
                        for (i, leg) in plan.legs.enumerated() where i != skipped {
                            let index = partial.positions.firstIndex { $0.instrument == leg.instrument }!
                            let delta = (partial.positions[index].quantity > 0 ? 1.0 : -1.0) * leg.quantity
                            partial.positions[index].quantity -= delta
                            partial.balances["USDC", default: 0] += delta * (unitValue[leg.instrument] ?? 0)
                            cost += leg.expectedCost
                        }
                        let s = try calculator.summary(AccountExposure(account: partial, catalog: setup.catalog, books: books, parameters: parameters),
                                                       books: books, markets: markets)
                        #expect(s.equity - cost < s.maintenanceRequirement * 1.15 + 1e-6)
                    }
                }
            }
        }
        #expect(planned > 10)
    }
}
