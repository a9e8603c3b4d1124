import Foundation
import KafkaClient
import MarginCore
import MarginSchema
import Testing
import TestSupport
@testable import MarginWorker

/// Issue 12, items 3 and 11: each instance instructs only its share of the anti-cascade budget (its
/// partitions over all of them); an instrument without displayed depth is liquidated only under
/// `liquidation.no_book_cap`; a liquidatable account without an instruction says why, in metrics
/// and on `GET /v1/accounts/{id}`.
@Suite("Anti-cascade budget share and waiting reasons")
struct LiquidationBudgetShareTests {
    static let now: Int64 = 1_700_000_000_000

    /// An engine fed directly (no broker) holding one leveraged ETH account (300 perpetuals at 3,000
    /// with 200,000 USDC) on accounts partition 0, after ETH fell to 2,600.
    static func engine(_ configure: (inout WorkerConfiguration) -> Void, ethBook: Bool = true,
                       partitions: Int? = nil) async throws -> MarginEngine {
        var configuration = WorkerConfiguration()
        configure(&configuration)
        var eth = TestWorld.eth(index: 2_600, at: now)
        if !ethBook { eth.books = [:] }
        let account = Account(id: "big", version: 1, balances: ["USDC": 200_000],
                              positions: [Position(instrument: "ETH-PERPETUAL", quantity: 300, averageEntryPrice: 3_000)])
        return await EngineFixture.engine(configuration: configuration, markets: [TestWorld.btc(index: 60_000, at: now), eth, TestWorld.usdc(at: now)],
                                          accountsPartitionCount: partitions, accounts: [account])
    }

    static func instructions(_ engine: MarginEngine) async throws -> [Margin_V1_LiquidationInstruction] {
        try await engine.batch.records.filter { $0.topic == TopicNames().liquidations }.map {
            try SchemaCoding.decode(Margin_V1_LiquidationInstruction.self, from: $0.value ?? Data(), format: .protobuf)
        }
    }

    @Test("Owning 1 of 4 partitions, an instance instructs a quarter of the budget a sole owner would")
    func budgetShare() async throws {
        // budget_fraction 0.05 of the 500 displayed on the bid: 25 contracts per window in all.
        let sole = try await Self.engine({ $0.liquidation.budgetFraction = 0.05 }, partitions: 1)
        let quarter = try await Self.engine({ $0.liquidation.budgetFraction = 0.05 }, partitions: 4)
        let whole = try #require(try await Self.instructions(sole).first)
        let share = try #require(try await Self.instructions(quarter).first)
        #expect(abs(whole.legs[0].quantity - 25) < 0.011, "sole owner: the whole budget (\(whole.legs[0].quantity))")
        #expect(abs(share.legs[0].quantity - 6.25) < 0.011, "1 of 4 partitions: a quarter (\(share.legs[0].quantity))")
        #expect(share.expectedEquityAfter < share.expectedMaintenanceAfter * 1.15, "budget-limited: the target is not met yet")
        #expect(await quarter.liquidation.budgetShare == 0.25)
    }

    @Test("Without displayed depth an instrument waits (reason no_depth, over HTTP) unless no_book_cap allows it")
    func noDepthWaitsUnlessCapped() async throws {
        let waiting = try await Self.engine({ _ in }, ethBook: false)
        #expect(try await Self.instructions(waiting).isEmpty)
        let answer = try #require(await waiting.currentResult(accountID: "big"))
        #expect(answer.health == .liquidatable)
        #expect(answer.liquidation.state == "waiting")
        #expect(answer.liquidation.reason == "no_depth")
        #expect(answer.liquidation.detail.contains("ETH-PERPETUAL"))
        #expect(await waiting.status().waitingReasons == ["big": "no_depth"])
        let json = String(decoding: SchemaCoding.encode(answer, format: .json), as: UTF8.self)
        #expect(json.contains("\"no_depth\""), "the HTTP answer carries the reason: \(json)")

        let capped = try await Self.engine({ $0.liquidation.noBookCap = 2 }, ethBook: false)
        let instruction = try #require(try await Self.instructions(capped).first)
        #expect(instruction.legs.count == 1 && instruction.legs[0].quantity <= 2 + 1e-9)
        #expect(await capped.status().waitingReasons.isEmpty)
        #expect(await capped.currentResult(accountID: "big")?.liquidation.state == "pending",
                "planned, not yet committed (no broker here): pending until the instruction is committed")
    }

    @Test("liquidation.no_book_cap is a setting from YAML, environment and flags; negative is refused")
    func noBookCapSetting() throws {
        var configuration = WorkerConfiguration()
        try configuration.set("liquidation.no_book_cap", "3.5")
        #expect(configuration.liquidation.noBookCap == 3.5)
        try configuration.set("liquidation.no_book_cap", "-1")
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        try configuration.set("restore_timeout_ms", "0")
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }
}
