import EngineTestSupport
import Foundation
import KafkaClient
import MarginCore
import MarginEngineCore
import MarginSchema
import TestSupport
import Testing
@testable import MarginWorker

/// Every invalid record is dead-lettered, whichever instance first reads it and whenever: records
/// produced before any worker ran (read during restore) included; reference records once, by the
/// owner of accounts partition 0, not once per instance.
@Suite("Dead letters under restore and several instances", .serialized, .tags(.broker))
struct DeadLetterOwnershipTests {
    @Test("Bad records produced before the workers start are dead-lettered; a bad reference record once for two workers")
    func deadLettersBeforeStartAndAcrossInstances() async throws {
        let harness = try await WorkerHarness(partitions: 2)
        let now = harness.clock.value
        try await harness.publish(instruments: TestWorld.instruments)
        try await harness.publish(market: TestWorld.btc(index: 60_000, at: now))
        try await harness.publish(market: TestWorld.eth(index: 3_000, at: now))
        try await harness.publish(market: TestWorld.usdc(at: now))
        try await harness.send(harness.topics.market, key: "BTC", value: Data(#"{"underlying":"BTC","timestamp_ms":"\#(now)","index_price":-5}"#.utf8), json: true)
        // Unknown instruments, on both partitions (murmur2 of these keys spreads them).
        let ghosts = (0..<6).map { "ghost-\($0)" }
        for ghost in ghosts {
            try await harness.send(harness.topics.accounts, key: ghost,
                                   value: Data(#"{"account_id":"\#(ghost)","version":"1","positions":[{"instrument":"NOPE","quantity":1}]}"#.utf8), json: true)
        }
        let a = harness.start("w1")
        let b = harness.start("w2")
        try await withDeadline(seconds: 90, "every bad record dead-lettered") {
            await harness.outputs.wait { messages in
                let sources = Set(messages.deadLetters().compactMap { $0.key.map { String(decoding: $0, as: UTF8.self) } })
                return sources.isSuperset(of: ghosts) && messages.deadLetters().contains { $0.header("dlq-source-topic") == TopicNames().market }
            }
        }
        try await harness.settle([a, b]) // a second copy would have been published and read by now
        let letters = await harness.outputs.elements.deadLetters()
        let market = letters.filter { $0.header("dlq-source-topic") == TopicNames().market }
        #expect(market.count == 1, "the reference dead letter is published by one owner")
        let ids = letters.compactMap { $0.header("message-id") }
        #expect(Set(ids).count == ids.count)
        await a.stop()
        await b.stop()
        await harness.shutdown()
    }
}
