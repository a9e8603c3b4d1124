import EngineTestSupport
import Foundation
import KafkaClient
import MarginCore
import MarginEngineCore
import MarginSchema
import TestSupport
import Testing
@testable import MarginWorker

/// What the worker publishes, as the clearing pipeline (which reconciles by account version) sees it.
@Suite("Publication policy", .serialized, .tags(.broker))
struct PublicationPolicyTests {
    @Test("A new account version that only changes cash is published at once, carrying that version")
    func everyVersionIsPublished() async throws {
        let harness = try await WorkerHarness(partitions: 1)
        let now = harness.clock.value
        try await harness.publish(instruments: TestWorld.instruments)
        try await harness.publish(market: TestWorld.btc(index: 60_000, at: now))
        try await harness.publish(market: TestWorld.eth(index: 3_000, at: now))
        try await harness.publish(market: TestWorld.usdc(at: now))
        var account = TestWorld.accounts(btc: 1, eth: 0)[0]
        account.balances["USDC"] = 10_000_000  // healthy: no liquidation activity around it
        let id = account.id
        try await harness.publish(account: account)
        // Thresholds so wide that only the version rule can publish; no periodic refresh.
        let worker = harness.start("w1") { $0.engine.publishThreshold = 100; $0.engine.refreshInterval = .zero }
        try await withDeadline(seconds: 60, "the first result") {
            await harness.outputs.wait { $0.results().contains { $0.accountID == id && $0.accountVersion == 1 } }
        }
        account.version = 2
        account.balances["USDC"]! += 1
        try await harness.publish(account: account)
        try await withDeadline(seconds: 30, "the result of version 2") {
            await harness.outputs.wait { $0.results().contains { $0.accountID == id && $0.accountVersion == 2 } }
        }
        let results = await harness.outputs.elements.results().filter { $0.accountID == id }
        #expect(results.last?.accountVersion == 2 && results.last?.health == .healthy)
        await worker.stop()
        await harness.shutdown()
    }
}
