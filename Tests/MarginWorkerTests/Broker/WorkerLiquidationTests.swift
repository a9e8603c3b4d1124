import EngineTestSupport
import Foundation
import KafkaClient
import MarginCore
import MarginEngineCore
import MarginSchema
import TestSupport
import Testing
@testable import MarginWorker

@Suite("Liquidation instructions from the worker", .serialized, .tags(.broker))
struct WorkerLiquidationTests {
    /// Leveraged ETH longs (30 perpetuals at 3,000 with 21,000 USDC): healthy at 3,000, liquidatable at 2,600.
    static func leveraged(_ count: Int, version: UInt64 = 1) -> [Account] {
        (0..<count).map { i in
            Account(id: "lev\(i)", version: version, balances: ["USDC": 21_000 + Double(i) * 10],
                    positions: [Position(instrument: "ETH-PERPETUAL", quantity: 30, averageEntryPrice: 3_000)])
        }
    }

    static func instructions(_ messages: [KafkaMessage]) -> [Margin_V1_LiquidationInstruction] {
        messages.filter { $0.topic == TopicNames().liquidations }.compactMap { message in
            message.value.flatMap { try? SchemaCoding.decode(Margin_V1_LiquidationInstruction.self, from: $0, format: .init(contentType: message.header("content-type"))) }
        }
    }

    static func seed(_ harness: WorkerHarness, leveraged count: Int) async throws -> [Account] {
        let now = harness.clock.value
        try await harness.publish(instruments: TestWorld.instruments)
        try await harness.publish(market: TestWorld.btc(index: 60_000, at: now))
        try await harness.publish(market: TestWorld.eth(index: 3_000, at: now))
        try await harness.publish(market: TestWorld.usdc(at: now))
        let accounts = Self.leveraged(count) + TestWorld.accounts(btc: 0, eth: 2)
        for account in accounts { try await harness.publish(account: account) }
        return accounts
    }

    @Test("A crash makes leveraged accounts liquidatable: ordered reduce-only instructions; cancels when they recover")
    func instructionsAndCancels() async throws {
        let harness = try await WorkerHarness(partitions: 2)
        let accounts = try await Self.seed(harness, leveraged: 4)
        let worker = harness.start("liq")
        try await withDeadline(seconds: 60, "healthy results") {
            await harness.outputs.wait { $0.latestResults().count == accounts.count }
        }
        #expect(Self.instructions(await harness.outputs.elements).isEmpty)
        harness.clock.advance(100)
        try await harness.publish(market: TestWorld.eth(index: 2_600, at: harness.clock.value))
        try await withDeadline(seconds: 30, "four instructions") {
            await harness.outputs.wait { Set(Self.instructions($0).filter { !$0.cancel }.map(\.accountID)).count == 4 }
        }
        let issued = Self.instructions(await harness.outputs.elements).filter { !$0.cancel }
        for instruction in issued {
            #expect(instruction.accountID.hasPrefix("lev"))
            #expect(instruction.reason == .maintenanceBreach)
            #expect(instruction.legs.count == 1 && instruction.legs[0].instrument == "ETH-PERPETUAL" && instruction.legs[0].side == .sell)
            #expect(instruction.legs[0].quantity > 0 && instruction.legs[0].quantity <= 30)
            #expect(instruction.expectedEquityAfter >= instruction.expectedMaintenanceAfter * 1.15 - 1e-6)
            #expect(instruction.equity < instruction.maintenanceRequirement)
            #expect(instruction.legs[0].limitPrice < 2_600 && instruction.deadlineMs > harness.clock.value)
            #expect(instruction.id == DeterministicID.make("liq", [instruction.accountID, "1", "0"]))
        }
        // The liquidatable accounts' results say so.
        let latest = await harness.outputs.elements.latestResults()
        #expect(latest["lev0"]?.health == .liquidatable)
        // Recovery: every outstanding instruction is cancelled.
        harness.clock.advance(100)
        try await harness.publish(market: TestWorld.eth(index: 3_000, at: harness.clock.value))
        try await withDeadline(seconds: 30, "four cancels") {
            await harness.outputs.wait { Set(Self.instructions($0).filter(\.cancel).map(\.accountID)).count == 4 }
        }
        let cancels = Self.instructions(await harness.outputs.elements).filter(\.cancel)
        #expect(Set(cancels.map(\.id)) == Set(issued.map(\.id)))
        await worker.stop()
        await harness.shutdown()
    }

    @Test("A batch that fails before its commit is re-emitted with identical ids, never a different plan")
    func failedCommitReemitsIdenticalIDs() async throws {
        let harness = try await WorkerHarness(partitions: 2)
        _ = try await Self.seed(harness, leveraged: 3)
        let worker = harness.start("liq")
        try await withDeadline(seconds: 60, "healthy results") { await harness.outputs.wait { $0.latestResults().count == 5 } }
        // The next transactions fail to register their partitions: the batch is aborted and retried.
        harness.cluster.injectErrors(.addPartitionsToTxn, [.topicAuthorizationFailed, .topicAuthorizationFailed])
        harness.clock.advance(100)
        try await harness.publish(market: TestWorld.eth(index: 2_600, at: harness.clock.value))
        try await withDeadline(seconds: 60, "instructions after the retry") {
            await harness.outputs.wait { Set(Self.instructions($0).map(\.accountID)).count == 3 }
        }
        try await harness.settle([worker]) // any further (re-)emission has been read by now
        let instructions = Self.instructions(await harness.outputs.elements)
        // The mock shows aborted records too (librdkafka 2.0.2 gap): every emission of an account's
        // plan carries the same id and the same legs.
        for account in Set(instructions.map(\.accountID)) {
            let emitted = instructions.filter { $0.accountID == account }
            #expect(Set(emitted.map(\.id)) == [DeterministicID.make("liq", [account, "1", "0"])])
            #expect(Set(emitted.map { $0.legs.map(\.quantity) }).count == 1)
        }
        await worker.stop()
        await harness.shutdown()
    }

    @Test("In-flight state survives a restart: no second instruction for the same account version")
    func inFlightSurvivesRestart() async throws {
        let harness = try await WorkerHarness(partitions: 2)
        _ = try await Self.seed(harness, leveraged: 3)
        harness.clock.advance(100)
        try await harness.publish(market: TestWorld.eth(index: 2_600, at: harness.clock.value))
        let first = harness.start("liq")
        try await withDeadline(seconds: 60, "three instructions") {
            await harness.outputs.wait { Set(Self.instructions($0).map(\.accountID)).count == 3 }
        }
        let issued = Self.instructions(await harness.outputs.elements)
        await first.stop()
        let second = harness.start("liq")
        try await withDeadline(seconds: 60, "restored results") {
            await harness.outputs.wait { $0.results().count >= 2 * 5 }
        }
        try await harness.settle([second]) // a re-issue would have been read by now
        let after = Self.instructions(await harness.outputs.elements)
        #expect(after.count == issued.count)
        #expect(await second.engine.status().outstandingInstructions == 3)
        // The instruction expires without fills: a new round is planned with a new id.
        harness.clock.advance(40_000)
        try await withDeadline(seconds: 30, "second round") {
            await harness.outputs.wait { Self.instructions($0).contains { $0.planRound == 1 } }
        }
        await second.stop()
        await harness.shutdown()
    }

    @Test("The anti-cascade budget caps instructed quantity per instrument and window; the rest waits")
    func antiCascadeBudget() async throws {
        let harness = try await WorkerHarness(partitions: 2)
        _ = try await Self.seed(harness, leveraged: 10)
        let worker = harness.start("liq") { configuration in
            configuration.liquidation.budgetFraction = 0.05 // 25 of the 500 displayed per window
            configuration.liquidation.budgetWindow = .seconds(1)
        }
        try await withDeadline(seconds: 60, "results") { await harness.outputs.wait { $0.latestResults().count == 12 } }
        harness.clock.advance(100)
        try await harness.publish(market: TestWorld.eth(index: 2_600, at: harness.clock.value))
        try await withDeadline(seconds: 30, "first window's instructions") {
            await harness.outputs.wait { !Self.instructions($0).isEmpty }
        }
        try await harness.settle([worker]) // more windows within the same (frozen) budget window
        let firstWindow = Self.instructions(await harness.outputs.elements)
        let quantity = firstWindow.flatMap(\.legs).filter { $0.instrument == "ETH-PERPETUAL" }.reduce(0) { $0 + $1.quantity }
        #expect(quantity <= 25 + 1e-9)
        #expect(firstWindow.count < 10)
        #expect(await worker.engine.status().queuedLiquidations > 0)
        // The next window lets more through, in severity order.
        harness.clock.advance(1_000)
        try await withDeadline(seconds: 30, "second window") {
            await harness.outputs.wait { Self.instructions($0).count > firstWindow.count }
        }
        await worker.stop()
        await harness.shutdown()
    }
}
