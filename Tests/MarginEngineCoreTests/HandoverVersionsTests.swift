import EngineTestSupport
import MarginCore
import Testing
@testable import MarginEngineCore

/// Every account version yields a result of its own across a handover: versions the previous owner
/// never answered (at or past the recorded consumed position) are answered by the restoring owner
/// even when a later record replaces them before the restore completes.
@Suite("Versions across a handover")
struct HandoverVersionsTests {
    static func version(_ account: Account, _ version: UInt64, usdc: Double) -> Account {
        var next = account
        next.version = version
        next.balances["USDC"] = usdc
        return next
    }

    /// Partition 0 as the restore reads it: `a` v1, v2 (answered by the previous owner: before
    /// offset 2), then v3, v4, `b` v1, `a` v5 (unanswered), then the partition's end.
    static func restore(answeredBefore: Int64?) async throws -> [(accountID: String, version: UInt64)] {
        let engine = await EngineFixture.engine()
        // The fixture's partition 0 (empty) is assigned again, as a new owner takes it over.
        await engine.assignShards([ShardAssignment(partition: 0, restoreTarget: 6, answeredBefore: answeredBefore)])
        let a = TestWorld.accounts(btc: 1, eth: 0)[0]
        let b = TestWorld.accounts(btc: 0, eth: 1)[0]
        let records = [Self.version(a, 1, usdc: 50_000), Self.version(a, 2, usdc: 51_000), Self.version(a, 3, usdc: 52_000),
                       Self.version(a, 4, usdc: 53_000), b, Self.version(a, 5, usdc: 54_000)]
        for (offset, account) in records.enumerated() {
            await engine.handleAccounts(EngineFixture.account(account, offset: Int64(offset)))
        }
        #expect(await engine.status().restoredShards == [0])
        return await engine.batch.outputs.compactMap { output -> (String, UInt64)? in
            switch output {
            case .result(let id, .full(_, let result)): return (id, result.accountVersion)
            case .result(let id, .summary(_, let account, _, _, _, _)), .result(let id, .error(_, let account, _, _)): return (id, account.version)
            default: return nil
            }
        }
    }

    @Test("Versions past the consumed position are answered, superseded ones first; answered ones are not repeated")
    func supersededVersionsAreAnswered() async throws {
        let published = try await Self.restore(answeredBefore: 2)
        let versionsOfB0 = published.filter { $0.accountID == "b0" }.map(\.version)
        #expect(versionsOfB0 == [3, 4, 5], "a's unanswered versions 3 and 4 before its current 5; 1 and 2 were answered before")
        #expect(published.filter { $0.accountID == "e0" }.map(\.version) == [1])
        #expect(published.last { $0.accountID == "b0" }?.version == 5, "the account's last result is its current version")
    }

    @Test("Without a recorded position only each account's current version is answered (as before)")
    func unknownPositionAnswersTheCurrentVersion() async throws {
        let published = try await Self.restore(answeredBefore: nil)
        #expect(published.filter { $0.accountID == "b0" }.map(\.version) == [5])
    }

    @Test("A shard records unanswered versions only while restoring and at or past the position")
    func shardRule() {
        var shard = AccountShard(partition: 0, restoreTarget: 10, assignedAtMs: 0, answeredBefore: 4)
        #expect(!shard.isUnansweredRestore(offset: 3) && shard.isUnansweredRestore(offset: 4))
        let old = Account(id: "x", version: 1)
        shard.recordUnanswered("x", replacing: old)   // the held version was read before the position: not kept
        shard.recordUnanswered("x", replacing: Account(id: "x", version: 2))
        #expect(shard.takeSuperseded()["x"]?.map(\.version) == [2])
        #expect(shard.takeSuperseded().isEmpty, "handed out once")
        _ = shard.advance(to: 10)
        #expect(!shard.isUnansweredRestore(offset: 11), "a serving shard answers every record as it comes")
    }

    @Test("A restoring shard records no answered position (its versions are not answered yet); once restored it records its consumed one")
    func noPositionWhileRestoring() async throws {
        let engine = await EngineFixture.engine()
        await engine.assignShards([ShardAssignment(partition: 0, restoreTarget: 4, answeredBefore: 1)])
        let a = TestWorld.accounts(btc: 1, eth: 0)[0]
        for offset in 0..<2 { await engine.handleAccounts(EngineFixture.account(Self.version(a, UInt64(offset + 1), usdc: 50_000), offset: Int64(offset))) }
        let restoring = try #require(await engine.takeBatch())
        #expect(restoring.positions[0] == 2 && restoring.answeredPositions[0] == nil)
        await engine.finishBatch(restoring, committed: true)
        for offset in 2..<4 { await engine.handleAccounts(EngineFixture.account(Self.version(a, UInt64(offset + 1), usdc: 50_000), offset: Int64(offset))) }
        let restored = try #require(await engine.takeBatch())
        #expect(restored.answeredPositions[0] == 4, "the batch that completes the restore answers everything read")
    }

    @Test("A served shard records its position at most once per interval, at once when revoking or shutting down")
    func positionCadence() async throws {
        let clock = TestClock(EngineFixture.now)
        var settings = EngineSettings()
        settings.consumedPositionInterval = .seconds(5)
        let engine = await EngineFixture.engine(settings: settings, clock: { clock.value })
        let a = TestWorld.accounts(btc: 1, eth: 0)[0]
        var offset: Int64 = 0
        func update() async {
            offset += 1
            await engine.handleAccounts(EngineFixture.account(Self.version(a, UInt64(offset), usdc: 50_000), offset: offset - 1))
        }
        func take() async throws -> OutputBatch { try #require(await engine.commitBatch()) }
        await engine.commitBatch()
        await update()
        #expect(try await take().answeredPositions[0] == 1, "the first position of a served shard is recorded at once")
        await update()
        clock.advance(4_999)
        #expect(try await take().answeredPositions[0] == nil, "within the interval: not recorded")
        clock.advance(1)
        await update()
        #expect(try await take().answeredPositions[0] == 3, "once the interval has passed: the latest position")
        #expect(await engine.takeBatch() == nil, "nothing moved: no record, no batch")
        await update()
        _ = try await take()
        await engine.prepareRevocation([0])
        let revoking = try #require(await engine.takeBatch(), "a revoking shard's unrecorded position makes a batch of its own")
        #expect(revoking.answeredPositions[0] == 4 && revoking.outputs.isEmpty)
        await engine.finishBatch(revoking, committed: true)
    }

    @Test("Shutting down records every served shard's position, whatever the interval")
    func positionAtShutdown() async throws {
        let clock = TestClock(EngineFixture.now)
        var settings = EngineSettings()
        settings.consumedPositionInterval = .seconds(3600)
        let engine = await EngineFixture.engine(settings: settings, clock: { clock.value })
        let a = TestWorld.accounts(btc: 1, eth: 0)[0]
        for offset in 0..<2 {
            await engine.handleAccounts(EngineFixture.account(Self.version(a, UInt64(offset + 1), usdc: 50_000), offset: Int64(offset)))
            _ = try #require(await engine.commitBatch())
        }
        await engine.drain()
        let last = try #require(await engine.takeBatch())
        #expect(last.answeredPositions[0] == 2)
    }
}
