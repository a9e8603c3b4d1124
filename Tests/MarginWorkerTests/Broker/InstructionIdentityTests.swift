import EngineTestSupport
import Foundation
import KafkaClient
import MarginCore
import MarginEngineCore
import MarginSchema
import TestSupport
import Testing
@testable import MarginWorker

/// An instruction id names one plan content forever: after a cancel the next plan for the same
/// account version takes a new round (and id), and a replacing instruction names the one it voids.
@Suite("Instruction identity", .serialized, .tags(.broker))
struct InstructionIdentityTests {
    @Test("Crash, rebound with cancel, crash again at the same version: a new id, never a reused one")
    func idsAreNeverReusedAfterACancel() async throws {
        let harness = try await WorkerHarness(partitions: 1)
        _ = try await WorkerLiquidationTests.seed(harness, leveraged: 2)
        let worker = harness.start("ids")
        try await withDeadline(seconds: 60, "healthy results") { await harness.outputs.wait { $0.latestResults().count == 4 } }
        func crash(_ index: Double) async throws {
            harness.clock.advance(100)
            try await harness.publish(market: TestWorld.eth(index: index, at: harness.clock.value))
        }
        try await crash(2_600)
        try await withDeadline(seconds: 30, "first instructions") {
            await harness.outputs.wait { WorkerLiquidationTests.instructions($0).filter { !$0.cancel }.count >= 2 }
        }
        try await crash(3_000)
        try await withDeadline(seconds: 30, "cancels") {
            await harness.outputs.wait { WorkerLiquidationTests.instructions($0).filter(\.cancel).count >= 2 }
        }
        try await crash(2_550)
        try await withDeadline(seconds: 30, "second instructions") {
            await harness.outputs.wait { WorkerLiquidationTests.instructions($0).filter { !$0.cancel }.count >= 4 }
        }
        let issued = WorkerLiquidationTests.instructions(await harness.outputs.elements).filter { !$0.cancel }
        // Same account version (1) both times: the second plan is round 1 with its own id.
        var contentByID: [String: Data] = [:]
        for instruction in issued {
            var content = instruction
            content.deadlineMs = 0
            let bytes = try SchemaCoding.encode(content, format: .protobuf)
            if let earlier = contentByID[instruction.id] { #expect(earlier == bytes, "id \(instruction.id) reused with different content") }
            contentByID[instruction.id] = bytes
        }
        #expect(Set(issued.map(\.id)).count == 4)
        #expect(Set(issued.map(\.planRound)) == [0, 1])
        #expect(issued.filter { $0.planRound == 1 }.allSatisfy { $0.id == DeterministicID.make("liq", [$0.accountID, "1", "1"]) })
        // After a cancel nothing is outstanding, so the new instruction supersedes nothing.
        #expect(issued.allSatisfy { $0.supersedes.isEmpty })
        await worker.stop()
        await harness.shutdown()
    }

    @Test("A new account version replaces the outstanding instruction and names it in supersedes")
    func newVersionSupersedes() async throws {
        let harness = try await WorkerHarness(partitions: 1)
        _ = try await WorkerLiquidationTests.seed(harness, leveraged: 1)
        let worker = harness.start("sup")
        try await withDeadline(seconds: 60, "healthy results") { await harness.outputs.wait { $0.latestResults().count == 3 } }
        harness.clock.advance(100)
        try await harness.publish(market: TestWorld.eth(index: 2_600, at: harness.clock.value))
        try await withDeadline(seconds: 30, "the first instruction") {
            await harness.outputs.wait { WorkerLiquidationTests.instructions($0).contains { !$0.cancel } }
        }
        let first = try #require(WorkerLiquidationTests.instructions(await harness.outputs.elements).first { !$0.cancel })
        // A partial fill arrives as version 2: the re-plan voids the first instruction.
        var filled = WorkerLiquidationTests.leveraged(1, version: 2)[0]
        filled.positions[0].quantity = 29
        try await harness.publish(account: filled)
        try await withDeadline(seconds: 30, "the replacing instruction") {
            await harness.outputs.wait { WorkerLiquidationTests.instructions($0).contains { !$0.cancel && $0.accountVersion == 2 } }
        }
        let second = try #require(WorkerLiquidationTests.instructions(await harness.outputs.elements).first { !$0.cancel && $0.accountVersion == 2 })
        #expect(second.supersedes == first.id && second.id != first.id)
        await worker.stop()
        await harness.shutdown()
    }
}

extension InstructionIdentityTests {
    @Test("A bankrupt account with nothing left to close gets one bankrupt instruction with its deficit, then leaves the queue")
    func bankruptWithNothingToClose() async throws {
        let harness = try await WorkerHarness(partitions: 1)
        let now = harness.clock.value
        try await harness.publish(instruments: TestWorld.instruments)
        try await harness.publish(market: TestWorld.btc(index: 60_000, at: now))
        try await harness.publish(market: TestWorld.eth(index: 3_000, at: now))
        try await harness.publish(market: TestWorld.usdc(at: now))
        try await harness.publish(account: Account(id: "broke", version: 1, balances: ["USDC": -5_000]))
        let worker = harness.start("bk")
        try await withDeadline(seconds: 60, "the bankrupt instruction") {
            await harness.outputs.wait { WorkerLiquidationTests.instructions($0).contains { $0.accountID == "broke" } }
        }
        // More windows pass (and a market tick): no second message for the same account state.
        harness.clock.advance(60_000)
        let tick = harness.clock.value
        try await harness.publish(market: TestWorld.btc(index: 60_000, at: tick))
        try await withDeadline(seconds: 30, "the BTC tick processed") {
            while await worker.engine.status().processedMarketMs["BTC"] != tick { try await Task.sleep(for: .milliseconds(5)) }
        }
        try await harness.settle([worker], windows: 30) // 30 planning windows: a repeat would have been read by now
        let messages = WorkerLiquidationTests.instructions(await harness.outputs.elements).filter { $0.accountID == "broke" }
        #expect(messages.count == 1)
        let message = try #require(messages.first)
        #expect(message.reason == .bankrupt && message.legs.isEmpty && abs(message.estimatedDeficit - 5_000) < 1e-6)
        #expect(message.id == DeterministicID.make("liq", ["broke", "1", "0"]))
        #expect(await worker.service.engine.status().queuedLiquidations == 0)
        await worker.stop()
        await harness.shutdown()
    }
}
