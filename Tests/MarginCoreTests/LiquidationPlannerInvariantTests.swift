import MarginCore
import MarginTesting
import Testing

/// The cascade invariants of the planner: a partial step never lowers equity ÷ MM, and below
/// "equity ÷ notional = fees + slippage" no partial step can help, so the account is closed in full.
@Suite("Liquidation planner invariants")
struct LiquidationPlannerInvariantTests {
    /// Equity 50 on a 1,000 position whose MM is 10 % (100): equity ÷ notional 5 %.
    @Test("Above fees + slippage a partial close restores the target and raises equity ÷ MM")
    func partialAboveTheThreshold() throws {
        // Penalty 1 % < 5 %: closing f of the position releases 100·f of MM for 10·f.
        let plan = try #require(try LiquidationPlannerTests.plan(equity: 50, notional: 1_000, lossRate: 0.1, penalty: 0.01))
        #expect(!plan.fullCloseOut && plan.meetsTarget)
        // E − 10 f = 100 (1 − f): f = 50/90.
        #expect(abs(plan.legs[0].quantity - 1_000 * 50 / 90) < 1e-6)
        #expect(plan.expectedEquityAfter / plan.expectedMaintenanceAfter > plan.equityBefore / plan.maintenanceBefore)
    }

    @Test("Below fees + slippage every partial step lowers equity ÷ MM: the planner closes in full at once")
    func fullBelowTheThreshold() throws {
        // Penalty 6 % > 5 %: each step releases more MM (10 %) than it costs (6 %), so the old rule
        // (benefit > 0) would take it, yet (50 − 60 f)/(100 (1 − f)) < 0.5 for every f in (0, 1).
        let plan = try #require(try LiquidationPlannerTests.plan(equity: 50, notional: 1_000, lossRate: 0.1, penalty: 0.06))
        #expect(plan.fullCloseOut && plan.fellBackToCloseOut)
        #expect(plan.legs.count == 1 && abs(plan.legs[0].quantity - 1_000) < 1e-9)
        // Equity after: 50 − 60 = −10: the plan says so.
        #expect(plan.reason == .bankrupt && abs(plan.estimatedDeficit - 10) < 1e-9)
    }

    @Test("Slippage counts like fees: a book whose walk costs more than equity ÷ notional is closed in full")
    func slippageCounts() throws {
        // Bid 0.94 under a mid of 1 (ask 1.06): half spread 6 % of the price, no penalty.
        let book = OrderBook(bidPrice: 0.94, bidSize: 1e12, askPrice: 1.06, askSize: 1e12)
        let plan = try #require(try LiquidationPlannerTests.plan(equity: 50, notional: 1_000, lossRate: 0.1, book: book))
        #expect(plan.fullCloseOut && plan.fellBackToCloseOut)
        let cheap = OrderBook(bidPrice: 0.99, bidSize: 1e12, askPrice: 1.01, askSize: 1e12)
        let partial = try #require(try LiquidationPlannerTests.plan(equity: 50, notional: 1_000, lossRate: 0.1, book: cheap))
        #expect(!partial.fullCloseOut && partial.meetsTarget)
    }

    @Test("Over sweeps of equity, MM rate and fees: a partial plan never ends below the ratio it started from")
    func neverLowersTheRatio() throws {
        var checked = 0
        for equity in stride(from: 5.0, through: 95, by: 15) {
            for lossRate in [0.1, 0.2, 0.4] {
                for penalty in [0.0, 0.005, 0.02, 0.05, 0.1] {
                    guard let plan = try LiquidationPlannerTests.plan(equity: equity, notional: 1_000, lossRate: lossRate, penalty: penalty),
                          !plan.fullCloseOut else { continue }
                    checked += 1
                    #expect(plan.expectedEquityAfter * plan.maintenanceBefore >= plan.equityBefore * plan.expectedMaintenanceAfter - 1e-9)
                    // The threshold: a partial plan only where equity ÷ notional reaches the penalty.
                    #expect(equity / 1_000 >= penalty)
                }
            }
        }
        #expect(checked > 20)
    }
}

@Suite("Close-out facts")
struct CloseOutFactsTests {
    @Test("The planner's facts equal the full explanation's: value per contract of every position, the label of the worst unit")
    func factsEqualTheExplanation() throws {
        let setup = SyntheticBook.market(strikesPerExpiry: 6)
        let parameters = SyntheticBook.parameters()
        let calculator = MarginCalculator(parameters: parameters)
        let markets = MarketState([setup.market])
        let books = ["BTC": try calculator.riskBook(for: "BTC", catalog: setup.catalog, markets: markets, asOfMs: setup.market.timestampMs)]
        for account in SyntheticBook.accounts(count: 40, positions: 6, catalog: setup.catalog, seed: 5) {
            let exposure = try AccountExposure(account: account, catalog: setup.catalog, books: books, parameters: parameters)
            let facts = try calculator.closeOutFacts(exposure, books: books, markets: markets)
            let explained = try calculator.explain(exposure, books: books, markets: markets)
            var values: [String: Double] = [:]
            for component in explained.equityComponents where component.kind == .position && component.quantity != 0 {
                values[component.name] = component.value / component.quantity
            }
            #expect(facts.valuePerContract == values)
            let label = explained.riskUnits.max { $0.worstLoss < $1.worstLoss }.map { "\($0.underlying): \($0.bindingLabel)" } ?? ""
            #expect(facts.bindingScenario == label)
        }
    }
}
