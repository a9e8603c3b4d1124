import EngineTestSupport
import Foundation
import KafkaClient
import MarginCore
import MarginEngineCore
import MarginSchema
import TestSupport
import Testing
@testable import MarginWorker

/// An account that cannot be margined is never skipped silently: it gets a result with health
/// `error` and the reason, on the results topic and over HTTP.
@Suite("Accounts that cannot be margined", .serialized, .tags(.broker))
struct AccountErrorTests {
    @Test("An account whose market is missing gets an error result; it margins once the market arrives")
    func errorResultThenRecovery() async throws {
        let harness = try await WorkerHarness(partitions: 1)
        let now = harness.clock.value
        try await harness.publish(instruments: TestWorld.instruments)
        try await harness.publish(market: TestWorld.btc(index: 60_000, at: now))
        try await harness.publish(market: TestWorld.usdc(at: now))
        let account = TestWorld.accounts(btc: 0, eth: 1)[0]  // an ETH perpetual: no ETH market yet
        try await harness.publish(account: account)
        let worker = harness.start("w1")
        try await withDeadline(seconds: 60, "the error result") {
            await harness.outputs.wait { $0.results().contains { $0.accountID == account.id && $0.health == .error } }
        }
        let failed = try #require(await harness.outputs.elements.results().first { $0.accountID == account.id })
        #expect(failed.errorCode == "missing_market" && failed.error.contains("ETH"))
        #expect(failed.accountVersion == account.version && !failed.resultID.isEmpty)
        let held = try #require(await worker.service.engine.currentResult(accountID: account.id))
        guard case .error(_, _, _, let error) = held.result else {
            Issue.record("the held account answers with its error result, got \(held.result)")
            return
        }
        #expect(error.code == "missing_market")
        // The market arrives: the account margins and a normal result follows.
        try await harness.publish(market: TestWorld.eth(index: 3_000, at: now))
        try await withDeadline(seconds: 30, "the margined result") {
            await harness.outputs.wait { $0.results().contains { $0.accountID == account.id && $0.health != .error } }
        }
        let recovered = try #require(await harness.outputs.elements.results().last { $0.accountID == account.id })
        #expect(recovered.maintenanceRequirement > 0 && recovered.errorCode.isEmpty)
        await worker.stop()
        await harness.shutdown()
    }
}
