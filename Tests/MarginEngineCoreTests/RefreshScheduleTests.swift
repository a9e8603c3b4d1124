import EngineTestSupport
import MarginCore
import Testing
@testable import MarginEngineCore

/// The periodic refresh is spread over its interval by partition: every partition once per
/// interval, never all of them in one tick.
@Suite("Refresh schedule")
struct RefreshScheduleTests {
    @Test("Ticks every 50 ms over one interval refresh each of 48 partitions exactly once, a few per tick")
    func eachPartitionOncePerInterval() {
        let partitions = (0..<48).map(Int32.init)
        var counts: [Int32: Int] = [:]
        var largestSlice = 0
        var time: Int64 = 1_700_000_000_123
        for _ in 0..<(60_000 / 50) {
            let due = RefreshSchedule.due(partitions, partitionCount: 48, intervalMs: 60_000, from: time, to: time + 50)
            largestSlice = max(largestSlice, due.count)
            for partition in due { counts[partition, default: 0] += 1 }
            time += 50
        }
        #expect(counts.count == 48 && counts.values.allSatisfy { $0 == 1 })
        #expect(largestSlice == 1, "48 partitions over 60 s: 1.25 s apart, so one per 50 ms tick")
    }

    @Test("A long gap refreshes a partition once; no interval, no refresh; an instance's own partitions only")
    func edges() {
        #expect(RefreshSchedule.due([0, 1, 2], partitionCount: 3, intervalMs: 1_000, from: 0, to: 10_000) == [0, 1, 2])
        #expect(RefreshSchedule.due([0, 1, 2], partitionCount: 3, intervalMs: 0, from: 0, to: 10_000).isEmpty)
        #expect(RefreshSchedule.due([0, 1, 2], partitionCount: 3, intervalMs: 1_000, from: 500, to: 500).isEmpty)
        // Partition 1 of 3 is due at k·1000 + 333.
        #expect(RefreshSchedule.due([1, 2], partitionCount: 3, intervalMs: 1_000, from: 300, to: 340) == [1])
        #expect(RefreshSchedule.due([1, 2], partitionCount: 3, intervalMs: 1_000, from: 340, to: 700) == [2])
    }

    @Test("Through the engine: over one interval of unchanged markets every account is republished once, a partition per tick")
    func engineRefreshesInSlices() async throws {
        let clock = TestClock(1_700_000_000_000)
        var settings = EngineSettings()
        settings.refreshInterval = .seconds(60)
        settings.staleAfter = .seconds(3_600)
        let engine = await EngineFixture.engine(settings: settings, clock: { clock.value }, accountsPartitionCount: 4)
        await engine.assignShards((1..<4).map { ShardAssignment(partition: $0, restoreTarget: 0) })
        let accounts = TestWorld.accounts(btc: 8, eth: 0)
        for (i, account) in accounts.enumerated() {
            await engine.handleAccounts(EngineFixture.account(account, offset: Int64(i / 4), partition: Int32(i % 4)))
        }
        await engine.tick()
        await engine.commitBatch()
        var republished: [[String]] = []
        for step in 0..<4 {
            clock.advance(15_000)
            // The same BTC index, dated now: every account is re-margined, none moved enough to be
            // republished but those the refresh forces.
            await engine.handleReference(EngineFixture.market(TestWorld.btc(index: 60_000, at: clock.value), offset: 10 + Int64(step)))
            await engine.tick()
            let batch = try #require(await engine.commitBatch())
            republished.append(batch.results.map(\.accountID))
        }
        #expect(republished.map(\.count) == [2, 2, 2, 2], "one partition's two accounts per 15 s")
        #expect(Set(republished.joined()) == Set(accounts.map(\.id)))
    }
}
