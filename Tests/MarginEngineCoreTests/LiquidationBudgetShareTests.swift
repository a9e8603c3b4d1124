import EngineTestSupport
import MarginCore
import Testing
@testable import MarginEngineCore

/// Each instance instructs only its share of the anti-cascade budget (its
/// partitions over all of them); an instrument without displayed depth is liquidated only under
/// `liquidation.no_book_cap`; a liquidatable account without an instruction says why, in metrics
/// and on `GET /v1/accounts/{id}`.
@Suite("Anti-cascade budget share and waiting reasons")
struct LiquidationBudgetShareTests {
    static let now: Int64 = 1_700_000_000_000

    /// An engine fed directly (no broker) holding one leveraged ETH account (300 perpetuals at 3,000
    /// with 200,000 USDC) on accounts partition 0, after ETH fell to 2,600.
    static func engine(_ configure: (inout LiquidationSettings) -> Void, ethBook: Bool = true,
                       partitions: Int? = nil) async throws -> MarginEngine {
        var settings = EngineSettings()
        configure(&settings.liquidation)
        var eth = TestWorld.eth(index: 2_600, at: now)
        if !ethBook { eth.orderBooks = [:] }
        let account = Account(id: "big", version: 1, balances: ["USDC": 200_000],
                              positions: [Position(instrument: "ETH-PERPETUAL", quantity: 300, averageEntryPrice: 3_000)])
        return await EngineFixture.engine(settings: settings, markets: [TestWorld.btc(index: 60_000, at: now), eth, TestWorld.usdc(at: now)],
                                          accountsPartitionCount: partitions, accounts: [account])
    }

    static func instructions(_ engine: MarginEngine) async -> [LiquidationPlan] {
        await engine.batch.liquidationActions.compactMap { if case .instruct(let plan, _, _, _, _) = $0 { plan } else { nil } }
    }

    @Test("Owning 1 of 4 partitions, an instance instructs a quarter of the budget a sole owner would")
    func budgetShare() async throws {
        // budget_fraction 0.05 of the 500 displayed on the bid: 25 contracts per window in all.
        let sole = try await Self.engine({ $0.budgetFraction = 0.05 }, partitions: 1)
        let quarter = try await Self.engine({ $0.budgetFraction = 0.05 }, partitions: 4)
        let whole = try #require(await Self.instructions(sole).first)
        let share = try #require(await Self.instructions(quarter).first)
        #expect(abs(whole.legs[0].quantity - 25) < 0.011, "sole owner: the whole budget (\(whole.legs[0].quantity))")
        #expect(abs(share.legs[0].quantity - 6.25) < 0.011, "1 of 4 partitions: a quarter (\(share.legs[0].quantity))")
        #expect(share.expectedEquityAfter < share.expectedMaintenanceAfter * 1.15, "budget-limited: the target is not met yet")
        #expect(await quarter.liquidation.budgetShare == 0.25)
    }

    @Test("Without displayed depth an instrument waits (reason no_depth) unless no_book_cap allows it")
    func noDepthWaitsUnlessCapped() async throws {
        let waiting = try await Self.engine({ _ in }, ethBook: false)
        #expect(await Self.instructions(waiting).isEmpty)
        let answer = try #require(await waiting.currentResult(accountID: "big"))
        #expect(answer.result.full?.health == .liquidatable)
        #expect(answer.liquidation == .waiting(.noDepth(["ETH-PERPETUAL"])))
        #expect(answer.liquidation.waitingReason?.detail.contains("ETH-PERPETUAL") == true)
        #expect(await waiting.status().waitingReasons == ["big": "no_depth"])

        let capped = try await Self.engine({ $0.noBookCap = 2 }, ethBook: false)
        let instruction = try #require(await Self.instructions(capped).first)
        #expect(instruction.legs.count == 1 && instruction.legs[0].quantity <= 2 + 1e-9)
        #expect(await capped.status().waitingReasons.isEmpty)
        #expect(await capped.currentResult(accountID: "big")?.liquidation == .pending,
                "planned, not yet committed (no broker here): pending until the instruction is committed")
    }
}
