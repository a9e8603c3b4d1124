import EngineTestSupport
import Foundation
import KafkaClient
import MarginCore
import MarginEngineCore
import MarginSchema
import TestSupport
import Testing
@testable import MarginWorker

@Suite("Worker scaling, restart and liquidations", .serialized, .tags(.broker))
struct WorkerScalingTests {
    /// Every account held by exactly one instance, and all restored.
    static func owners(_ instances: [WorkerHarness.Instance]) async -> (accounts: Int, shards: [Int32], restored: Bool) {
        var total = 0
        var shards: [Int32] = []
        var restored = true
        for instance in instances {
            let status = await instance.engine.status()
            total += status.accounts
            shards += status.shards
            restored = restored && status.shards == status.restoredShards
        }
        return (total, shards.sorted(), restored)
    }

    static func awaitOwnership(_ instances: [WorkerHarness.Instance], accounts: Int, partitions: Int32, _ what: String) async throws {
        try await withDeadline(seconds: 90, what) {
            while true {
                let state = await owners(instances)
                var everyoneOwns = true
                for instance in instances where await instance.engine.status().shards.isEmpty { everyoneOwns = false }
                if everyoneOwns, state.shards == Array(0..<partitions), state.accounts == accounts, state.restored { return }
                try await Task.sleep(for: .milliseconds(50)) // polling engine state across instances (no single event to await)
            }
        }
    }

    @Test("Two instances split the partitions; one stops and the other takes over; a third joins")
    func scaleOutAndIn() async throws {
        let harness = try await WorkerHarness(partitions: 4)
        _ = try await WorkerEndToEndTests.seed(harness, btc: 6, eth: 6)
        let a = harness.start("a"), b = harness.start("b")
        try await Self.awaitOwnership([a, b], accounts: 12, partitions: 4, "a two-way split")
        let aShards = await a.engine.status().shards.count, bShards = await b.engine.status().shards.count
        #expect(aShards >= 1 && bShards >= 1)
        await b.stop()
        try await Self.awaitOwnership([a], accounts: 12, partitions: 4, "a to hold everything")
        // Every account still margined (latest results cover all).
        try await withDeadline(seconds: 30, "results for all 12 accounts") {
            await harness.outputs.wait { $0.latestResults().count == 12 }
        }
        let c = harness.start("c")
        try await Self.awaitOwnership([a, c], accounts: 12, partitions: 4, "c to take some back")
        #expect(await c.engine.status().shards.count >= 1)
        await a.stop()
        await c.stop()
        await harness.shutdown()
    }

    @Test("A restarted instance restores and republishes the same ids for the same inputs")
    func restartKeepsIDs() async throws {
        let harness = try await WorkerHarness(partitions: 2)
        _ = try await WorkerEndToEndTests.seed(harness, btc: 3, eth: 3)
        let first = harness.start("r")
        try await withDeadline(seconds: 60, "first results") {
            await harness.outputs.wait { Set($0.results().map(\.accountID)).count == 6 }
        }
        let firstIDs = Dictionary(await harness.outputs.elements.results().map { ($0.accountID, $0.resultID) }, uniquingKeysWith: { a, _ in a })
        let count = await harness.outputs.elements.results().count
        await first.stop()
        let second = harness.start("r")
        try await withDeadline(seconds: 60, "republished results") {
            await harness.outputs.wait { Set($0.results().dropFirst(count).map(\.accountID)).count == 6 }
        }
        for result in await harness.outputs.elements.results().dropFirst(count) {
            #expect(firstIDs[result.accountID] == result.resultID, "\(result.accountID)")
        }
        await second.stop()
        await harness.shutdown()
    }
}
