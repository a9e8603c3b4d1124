import EngineTestSupport
import MarginCore
import Testing
@testable import MarginEngineCore

/// On a real broker a partition written transactionally ends with a commit
/// marker that no consumer receives, so "last offset + 1 == high watermark" never holds. Restore
/// completes on the partition-end event instead; a restore that takes too long is reported.
@Suite("Restore completes at a partition's end (transaction markers)")
struct RestoreCompletionTests {
    static let now: Int64 = 1_700_000_000_000

    static func engine(restoreTimeout: Duration = .seconds(120), clock: TestClock) -> MarginEngine {
        var settings = EngineSettings()
        settings.restoreTimeout = restoreTimeout
        return MarginEngine(settings: settings, preset: EngineFixture.preset, logger: EngineFixture.logger, clock: { clock.value })
    }

    @Test("Reference and shard restores finish on partition end although the watermark lies past a commit marker")
    func restoreEndsOnPartitionEnd() async throws {
        let clock = TestClock(Self.now)
        let engine = Self.engine(clock: clock)
        // Reference: the market partition holds 3 records and a commit marker (high watermark 4).
        let instruments = InputPartition(topic: EngineFixture.Topic.instruments, partition: 0)
        let market = InputPartition(topic: EngineFixture.Topic.market, partition: 0)
        await engine.setReferenceTargets([instruments: Int64(TestWorld.instruments.count), market: 4])
        for (i, instrument) in TestWorld.instruments.enumerated() {
            await engine.handleReference(EngineFixture.instrument(instrument, offset: Int64(i)))
        }
        for (i, snapshot) in [TestWorld.btc(index: 60_000, at: Self.now), TestWorld.eth(index: 3_000, at: Self.now), TestWorld.usdc(at: Self.now)].enumerated() {
            await engine.handleReference(EngineFixture.market(snapshot, offset: Int64(i)))
        }
        #expect(await engine.referenceReady == false, "offset 2 + 1 < watermark 4: not yet known to be caught up")
        await engine.handleReference(.partitionEnd(market, next: 4))
        #expect(await engine.referenceReady, "the partition end says the reader is caught up")

        // Accounts partition 0: two records, then a commit marker (high watermark 3).
        await engine.assignShards([ShardAssignment(partition: 0, restoreTarget: 3)])
        for (i, account) in TestWorld.accounts(btc: 1, eth: 1).enumerated() {
            await engine.handleAccounts(EngineFixture.account(account, offset: Int64(i)))
        }
        #expect(await engine.status().restoredShards.isEmpty)
        // A partition end of another partition changes nothing.
        await engine.handleAccounts(.partitionEnd(partition: 1, next: 3))
        #expect(await engine.status().restoredShards.isEmpty)
        await engine.handleAccounts(.partitionEnd(partition: 0, next: 3))
        #expect(await engine.status().restoredShards == [0])
        await engine.tick()
        #expect(await engine.isReady)
        let results = await engine.batch.results
        #expect(Set(results.map(\.accountID)).count == 2, "both restored accounts are margined and published")
    }

    @Test("Ready means serving: not before the group's assignment; an empty assignment is ready and owns nothing")
    func readyNeedsTheAssignment() async throws {
        let clock = TestClock(Self.now)
        let engine = Self.engine(clock: clock)
        let market = InputPartition(topic: EngineFixture.Topic.market, partition: 0)
        await engine.setReferenceTargets([market: 3])
        for (i, snapshot) in [TestWorld.btc(index: 60_000, at: Self.now), TestWorld.eth(index: 3_000, at: Self.now), TestWorld.usdc(at: Self.now)].enumerated() {
            await engine.handleReference(EngineFixture.market(snapshot, offset: Int64(i)))
        }
        await engine.tick()
        #expect(await engine.referenceReady)
        #expect(await engine.isReady == false, "reference restored, but the group has not assigned anything yet")
        #expect(engine.view.snapshot?.isReady == false)
        await engine.assignShards([])
        #expect(await engine.isReady)
        let status = try #require(engine.view.snapshot?.status)
        #expect(status.assigned && status.shards.isEmpty)
    }

    @Test("A restore past restore_timeout_ms is logged and counted once, and the shard keeps restoring")
    func restoreTimeoutReported() async throws {
        let clock = TestClock(Self.now)
        let engine = Self.engine(restoreTimeout: .seconds(5), clock: clock)
        let market = InputPartition(topic: EngineFixture.Topic.market, partition: 0)
        await engine.setReferenceTargets([market: 2])
        clock.advance(6_000)
        await engine.tick()
        #expect(await engine.phase.timeoutReported)
        #expect(await engine.referenceReady == false)
        await engine.handleReference(.partitionEnd(market, next: 2))
        #expect(await engine.referenceReady)

        await engine.assignShards([ShardAssignment(partition: 0, restoreTarget: 10)])
        clock.advance(4_000)
        await engine.tick()
        #expect(await engine.accounts[0]?.phase == .restoring(timeoutReported: false))
        clock.advance(2_000)
        await engine.tick()
        #expect(await engine.accounts[0]?.phase == .restoring(timeoutReported: true))
        #expect(await engine.isReady == false)
        await engine.handleAccounts(.partitionEnd(partition: 0, next: 10))
        #expect(await engine.accounts[0]?.isServing == true)
    }
}
