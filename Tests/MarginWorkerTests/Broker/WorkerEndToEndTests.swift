import EngineTestSupport
import Foundation
import KafkaClient
import MarginCore
import MarginEngineCore
import MarginSchema
import TestSupport
import Testing
@testable import MarginWorker

@Suite("Margin worker on the embedded broker", .serialized, .tags(.broker))
struct WorkerEndToEndTests {
    static func seed(_ harness: WorkerHarness, btc: Int = 3, eth: Int = 3) async throws -> [Account] {
        let now = harness.clock.value
        try await harness.publish(instruments: TestWorld.instruments)
        try await harness.publish(market: TestWorld.btc(index: 60_000, at: now))
        try await harness.publish(market: TestWorld.eth(index: 3_000, at: now))
        try await harness.publish(market: TestWorld.usdc(at: now))
        let accounts = TestWorld.accounts(btc: btc, eth: eth)
        for account in accounts { try await harness.publish(account: account) }
        return accounts
    }

    @Test("Results appear with the right requirements; a market move changes exactly the exposed accounts")
    func endToEnd() async throws {
        let harness = try await WorkerHarness()
        let accounts = try await Self.seed(harness)
        let worker = harness.start("w1")
        try await withDeadline(seconds: 60, "results for all accounts") {
            await harness.outputs.wait { Set($0.results().map(\.accountID)).count == accounts.count }
        }
        // Requirements equal the library's own computation on the same inputs.
        let parameters = try RiskPresets.load("deribit-like")
        let now = harness.clock.value
        let markets = MarketState([TestWorld.btc(index: 60_000, at: now), TestWorld.eth(index: 3_000, at: now), TestWorld.usdc(at: now)])
        let catalog = InstrumentCatalog(TestWorld.instruments)
        var latest = await harness.outputs.elements.latestResults()
        for account in accounts {
            let expected = try MarginCalculator(parameters: parameters).margin(account: account, catalog: catalog, markets: markets, asOfMs: now)
            let result = try #require(latest[account.id])
            #expect(abs(result.maintenanceRequirement - expected.maintenanceRequirement) <= 1e-9 * max(1, expected.maintenanceRequirement))
            #expect(abs(result.initialRequirement - expected.initialRequirement) <= 1e-9 * max(1, expected.initialRequirement))
            #expect(result.accountVersion == 1 && result.parameterSetID == "deribit-like")
            #expect(!result.resultID.isEmpty)
        }
        let before = await harness.outputs.elements.results().count
        // BTC drops 10%: only BTC accounts are re-margined and republished.
        harness.clock.advance(1_000)
        try await harness.publish(market: TestWorld.btc(index: 54_000, at: harness.clock.value))
        try await withDeadline(seconds: 30, "BTC accounts republished") {
            await harness.outputs.wait { messages in
                let fresh = messages.results().dropFirst(before)
                return Set(fresh.map(\.accountID)).isSuperset(of: ["b0", "b1", "b2"])
            }
        }
        // A few more windows, published and read: nothing else moved.
        try await harness.settle([worker])
        let fresh = await harness.outputs.elements.results().dropFirst(before)
        #expect(Set(fresh.map(\.accountID)) == ["b0", "b1", "b2"])
        latest = await harness.outputs.elements.latestResults()
        #expect(latest["b0"]?.marketTimestamps["BTC"] == harness.clock.value)
        // A replayed (same version) account changes nothing.
        try await harness.publish(account: accounts[0])
        await worker.stop()
        await harness.shutdown()
    }

    @Test("Bad input goes to the dead-letter topic with its reason and source; nothing else changes")
    func deadLetters() async throws {
        let harness = try await WorkerHarness()
        let accounts = try await Self.seed(harness, btc: 1, eth: 1)
        let worker = harness.start("w1")
        try await withDeadline(seconds: 60, "initial results") {
            await harness.outputs.wait { Set($0.results().map(\.accountID)).count == accounts.count }
        }
        let resultsBefore = await harness.outputs.elements.results().count
        let t = harness.clock.value
        // Undecodable account bytes.
        try await harness.send(harness.topics.accounts, key: "bad-bytes", value: Data([0xFF, 0x01, 0x02]))
        // Schema-valid JSON naming an unknown instrument.
        try await harness.send(harness.topics.accounts, key: "ghost",
                               value: Data(#"{"account_id":"ghost","version":"1","positions":[{"instrument":"NOPE","quantity":1}]}"#.utf8), json: true)
        // Non-finite, zero and negative prices; inconsistent (duplicate) expiries.
        try await harness.send(harness.topics.market, key: "BTC", value: Data(#"{"underlying":"BTC","timestamp_ms":"\#(t)","index_price":"NaN"}"#.utf8), json: true)
        try await harness.send(harness.topics.market, key: "BTC", value: Data(#"{"underlying":"BTC","timestamp_ms":"\#(t)","index_price":0}"#.utf8), json: true)
        try await harness.send(harness.topics.market, key: "BTC", value: Data(#"{"underlying":"BTC","timestamp_ms":"\#(t)","index_price":-5}"#.utf8), json: true)
        var duplicate = TestWorld.btc(index: 61_000, at: t)
        duplicate.expiries.append(duplicate.expiries[0])
        try await harness.send(harness.topics.market, key: "BTC", value: try SchemaCoding.encode(duplicate.proto, format: .protobuf))
        try await withDeadline(seconds: 30, "six dead letters") {
            await harness.outputs.wait { $0.deadLetters().count >= 6 }
        }
        let letters = await harness.outputs.elements.deadLetters()
        let reasons = letters.map { $0.header("dlq-reason") ?? "" }
        #expect(reasons.filter { $0 == "invalid_input" }.count == 5)
        #expect(reasons.contains("unknown_instrument"))
        for letter in letters {
            #expect(letter.header("dlq-source-topic") != nil && letter.header("dlq-source-offset") != nil)
            #expect(letter.header("dlq-error")?.isEmpty == false)
        }
        // State unchanged: no result moved (the BTC market still at 60,000; no ghost account).
        try await harness.settle([worker])
        #expect(await harness.outputs.elements.results().count == resultsBefore)
        let status = await worker.engine.status()
        #expect(status.accounts == accounts.count)
        await worker.stop()
        await harness.shutdown()
    }

    @Test("Stale markets turn results stale; fresh snapshots recover them")
    func staleness() async throws {
        let harness = try await WorkerHarness()
        let accounts = try await Self.seed(harness, btc: 2, eth: 1)
        let worker = harness.start("w1", staleAfterMs: 5_000)
        try await withDeadline(seconds: 60, "initial results") {
            await harness.outputs.wait { Set($0.results().map(\.accountID)).count == accounts.count }
        }
        // No market updates for 6 s: every account turns stale.
        harness.clock.advance(6_000)
        try await withDeadline(seconds: 30, "stale results") {
            await harness.outputs.wait { Set($0.latestResults().values.filter { $0.health == .stale }.map(\.accountID)).count == accounts.count }
        }
        #expect(await worker.engine.status().staleUnderlyings.contains("BTC"))
        #expect(await worker.engine.isReady == false)
        // Fresh snapshots: results recover.
        let now = harness.clock.value
        try await harness.publish(market: TestWorld.btc(index: 60_000, at: now))
        try await harness.publish(market: TestWorld.eth(index: 3_000, at: now))
        try await harness.publish(market: TestWorld.usdc(at: now))
        try await withDeadline(seconds: 30, "recovered results") {
            await harness.outputs.wait { $0.latestResults().values.allSatisfy { $0.health != .stale } }
        }
        // A confidence under the threshold is stale too.
        try await harness.publish(market: TestWorld.btc(index: 60_000, at: now, confidence: 0.2))
        try await withDeadline(seconds: 30, "low-confidence stale") {
            await harness.outputs.wait { $0.latestResults()["b0"]?.health == .stale }
        }
        await worker.stop()
        await harness.shutdown()
    }
}
