import Testing
@testable import MarginCore

@Suite("Liquidation planner: book-walk costs, price band, no book, underlying budget")
struct LiquidityPlannerTests {
    /// Bids 0.99 × 100, 0.98 × 200, 0.97 × 300, 0.5 × 10,000; asks mirrored (mid 1).
    static let ladder = OrderBook(
        bids: [PriceLevel(price: 0.99, size: 100), PriceLevel(price: 0.98, size: 200), PriceLevel(price: 0.97, size: 300),
               PriceLevel(price: 0.5, size: 10_000)],
        asks: [PriceLevel(price: 1.01, size: 100), PriceLevel(price: 1.02, size: 200), PriceLevel(price: 1.03, size: 300),
               PriceLevel(price: 1.5, size: 10_000)])

    /// Equity 1,000, a long of 1,500 perpetuals at 1, one scenario losing 80 %: about 250 must go.
    static func plan(book: OrderBook?, policy: LiquidationPolicy = LiquidationPolicy(targetBuffer: 0, closeOutEquity: 0, depthFraction: 1, penaltyRate: 0),
                     equity: Double = 1_000, underlyingCaps: [String: Double] = [:]) throws -> (LiquidationPlan?, LiquidationPlanner, InstrumentLiquidity) {
        let (calculator, catalog, markets) = LiquidationPlannerTests.setup(lossRate: 0.8, price: 1, lot: 1e-9, book: book)
        var markets2 = markets
        if book == nil { markets2["X"]!.orderBooks = [:] }
        let account = Account(id: "a", version: 1, balances: ["USD": equity],
                              positions: [Position(instrument: "X-PERP", quantity: 1_500, averageEntryPrice: 1)])
        let books = ["X": try calculator.riskBook(for: "X", catalog: catalog, markets: markets2, asOfMs: 1)]
        let planner = LiquidationPlanner(calculator: calculator, policy: policy)
        let terms = try InstrumentLiquidity(instrument: catalog["X-PERP"]!, market: markets2["X"]!, riskBook: nil, valuationPrice: 1, nowMs: 1,
                                            fallbackVolatility: policy.costModel.fallbackVolatility)
        return (try planner.plan(account: account, catalog: catalog, books: books, markets: markets2, underlyingCaps: underlyingCaps), planner, terms)
    }

    @Test("A leg inside the displayed depth costs exactly its book walk; its limit is the deepest level reached")
    func expectedCostIsTheWalk() throws {
        let (plan, _, terms) = try Self.plan(book: Self.ladder)
        let leg = try #require(plan?.legs.first)
        #expect(leg.quantity > 250 && leg.quantity < 600)
        let walk = LiquidityCostModel.standard.closeCost(leg.quantity, side: .bid, terms: terms)
        #expect(walk.beyondDepth == 0)
        #expect(abs(leg.expectedCost - walk.total) < 1e-9)
        #expect(abs(leg.expectedCost - (100 * 0.01 + (leg.quantity - 100) * 0.02)) < 1e-9 || leg.quantity > 300)
        #expect(leg.limitPrice == (leg.quantity <= 300 ? 0.98 : 0.97))
        #expect(plan?.meetsTarget == true)
    }

    @Test("Chunks: a fraction of the depth within the price band; without a book a small share of the position")
    func chunkCaps() throws {
        let (_, planner, terms) = try Self.plan(book: Self.ladder, policy: LiquidationPolicy(depthFraction: 0.5, priceBand: 0.1))
        let market = LiquidationPlanner.Market(liquidity: terms, model: .standard, lotSize: 1e-9)
        // Within 10 % of the mid: 600 of the 10,600 displayed.
        #expect(abs(planner.chunkCap(market, side: .bid, original: 1_500) - 300) < 1e-12)
        let (_, narrow, _) = try Self.plan(book: Self.ladder, policy: LiquidationPolicy(depthFraction: 0.5, priceBand: 0.001))
        #expect(abs(narrow.chunkCap(market, side: .bid, original: 1_500) - 50) < 1e-12) // the best level always counts
        let (_, noBook, bare) = try Self.plan(book: nil, policy: LiquidationPolicy(noBookChunkFraction: 0.1))
        #expect(abs(noBook.chunkCap(LiquidationPlanner.Market(liquidity: bare, model: .standard, lotSize: 1e-9), side: .bid, original: 1_500) - 150) < 1e-12)
    }

    @Test("No book: legs still cost (one daily σ per contract), never zero")
    func noBookNeverFree() throws {
        let (plan, _, terms) = try Self.plan(book: nil)
        let leg = try #require(plan?.legs.first)
        let sigma = 1 * 0.8 / 365.0.squareRoot()
        #expect(terms.book == nil && abs(leg.expectedCost - leg.quantity * sigma) < 1e-9)
        #expect(leg.limitPrice < 1 - sigma + 1e-12)
        // Bankrupt: everything is closed, in no-book chunks, and the deficit includes the cost.
        let (bankrupt, _, _) = try Self.plan(book: nil, equity: -10)
        let closeOut = try #require(bankrupt?.legs.first)
        #expect(bankrupt?.reason == .bankrupt && closeOut.quantity == 1_500)
        #expect(abs(closeOut.expectedCost - 1_500 * sigma) < 1e-6)
    }

    @Test("The underlying budget caps the delta notional a plan may instruct")
    func underlyingBudget() throws {
        let (plan, _, _) = try Self.plan(book: Self.ladder, underlyingCaps: ["X": 120])
        let leg = try #require(plan?.legs.first)
        #expect(leg.quantity <= 120 + 1e-9)
        #expect(plan?.meetsTarget == false)
    }
}
