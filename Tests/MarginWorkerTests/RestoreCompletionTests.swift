import Foundation
import KafkaClient
import MarginCore
import MarginSchema
import Testing
import TestSupport
@testable import MarginWorker

/// Issue 12, item 15: on a real broker a partition written transactionally ends with a commit
/// marker that no consumer receives, so "last offset + 1 == high watermark" never holds. Restore
/// completes on the partition-end event instead; a restore that takes too long is reported.
@Suite("Restore completes at a partition's end (transaction markers)")
struct RestoreCompletionTests {
    static let now: Int64 = 1_700_000_000_000

    static func engine(restoreTimeoutMs: Int64 = 120_000, clock: TestClock) -> (MarginEngine, WorkerConfiguration) {
        var configuration = WorkerConfiguration()
        configuration.restoreTimeoutMs = restoreTimeoutMs
        let engine = MarginEngine(configuration: configuration, logger: WorkerHarness.logger, clock: { clock.value })
        return (engine, configuration)
    }

    static func record(_ topic: String, _ key: String, _ value: Data, offset: Int64) -> KafkaMessage {
        EngineFixture.record(topic, key, value, offset: offset)
    }

    @Test("Reference and shard restores finish on partition end although the watermark lies past a commit marker")
    func restoreEndsOnPartitionEnd() async throws {
        let clock = TestClock(Self.now)
        let (engine, configuration) = Self.engine(clock: clock)
        let topics = configuration.topics
        // Reference: the market partition holds 3 records and a commit marker (high watermark 4).
        let instruments = TopicPartition(topic: topics.instruments, partition: 0)
        let market = TopicPartition(topic: topics.market, partition: 0)
        await engine.setReferenceTargets([instruments: Int64(TestWorld.instruments.count), market: 4])
        for (i, instrument) in TestWorld.instruments.enumerated() {
            await engine.handleReference(.message(Self.record(topics.instruments, instrument.name, SchemaCoding.encode(instrument.proto, format: .protobuf), offset: Int64(i))))
        }
        for (i, snapshot) in [TestWorld.btc(index: 60_000, at: Self.now), TestWorld.eth(index: 3_000, at: Self.now), TestWorld.usdc(at: Self.now)].enumerated() {
            await engine.handleReference(.message(Self.record(topics.market, snapshot.underlying, SchemaCoding.encode(snapshot.proto, format: .protobuf), offset: Int64(i))))
        }
        #expect(await engine.referenceReady == false, "offset 2 + 1 < watermark 4: not yet known to be caught up")
        await engine.handleReference(.partitionEnd(market, nextOffset: 4))
        #expect(await engine.referenceReady, "the partition end says the reader is caught up")

        // Accounts partition 0: two records, then a commit marker (high watermark 3).
        let accounts = TopicPartition(topic: topics.accounts, partition: 0)
        await engine.assignShards(ShardAssignment.restoring([accounts], to: { _ in 3 }))
        for (i, account) in TestWorld.accounts(btc: 1, eth: 1).enumerated() {
            await engine.handleAccounts(.message(Self.record(topics.accounts, account.id, SchemaCoding.encode(account.proto, format: .protobuf), offset: Int64(i))))
        }
        #expect(await engine.status().restoredShards.isEmpty)
        // A partition end of another topic or partition changes nothing.
        await engine.handleAccounts(.partitionEnd(TopicPartition(topic: topics.accounts, partition: 1), nextOffset: 3))
        #expect(await engine.status().restoredShards.isEmpty)
        await engine.handleAccounts(.partitionEnd(accounts, nextOffset: 3))
        #expect(await engine.status().restoredShards == [0])
        await engine.tick()
        #expect(await engine.isReady)
        let results = await engine.batch.records.filter { $0.topic == topics.results }
        #expect(Set(results.compactMap(\.key)).count == 2, "both restored accounts are margined and published")
    }

    @Test("A restore past restore_timeout_ms is logged and counted once, and the shard keeps restoring")
    func restoreTimeoutReported() async throws {
        let clock = TestClock(Self.now)
        let (engine, configuration) = Self.engine(restoreTimeoutMs: 5_000, clock: clock)
        let topics = configuration.topics
        await engine.setReferenceTargets([TopicPartition(topic: topics.market, partition: 0): 2])
        clock.advance(6_000)
        await engine.tick()
        #expect(await engine.phase.timeoutReported)
        #expect(await engine.referenceReady == false)
        await engine.handleReference(.partitionEnd(TopicPartition(topic: topics.market, partition: 0), nextOffset: 2))
        #expect(await engine.referenceReady)

        let accounts = TopicPartition(topic: topics.accounts, partition: 0)
        await engine.assignShards(ShardAssignment.restoring([accounts], to: { _ in 10 }))
        clock.advance(4_000)
        await engine.tick()
        #expect(await engine.accounts[0]?.phase == .restoring(timeoutReported: false))
        clock.advance(2_000)
        await engine.tick()
        #expect(await engine.accounts[0]?.phase == .restoring(timeoutReported: true))
        #expect(await engine.isReady == false)
        await engine.handleAccounts(.partitionEnd(accounts, nextOffset: 10))
        #expect(await engine.accounts[0]?.isServing == true)
    }
}
