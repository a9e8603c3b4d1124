import EngineTestSupport
import MarginCore
import Testing
@testable import MarginEngineCore

/// Batches leave the engine one at a time and come back with their outcome (no broker): an aborted
/// batch's outputs go out again first, with the same ids; a committed one updates what was published.
@Suite("Output batches outside the engine")
struct OutputBatchTests {
    @Test("takeBatch hands out one batch at a time; an aborted batch is merged back in front, a committed one applies")
    func takeAndFinish() async throws {
        // Two accounts margined, their results pending.
        let engine = await EngineFixture.engine(accounts: TestWorld.accounts(btc: 1, eth: 1))
        let first = try #require(await engine.takeBatch())
        #expect(first.results.count == 2 && first.pendingResults.count == 2)
        #expect(await engine.takeBatch() == nil, "one batch in flight at a time")
        // Meanwhile new outputs accumulate in the next batch: a record refused.
        await engine.handleAccounts(.record(EngineFixture.source(EngineFixture.Topic.accounts, offset: 9, key: "x"), id: "x",
                                            account: .failure(.invalidInput(field: "account", reason: "unreadable"))))
        await engine.finishBatch(first, committed: false)
        let retried = try #require(await engine.takeBatch())
        #expect(retried.outputs.count == first.outputs.count + 1)
        #expect(retried.results.map(\.result.id) == first.results.map(\.result.id), "the failed outputs go first, same ids")
        #expect(retried.deadLetters.map(\.source.offset) == [9])
        #expect(retried.positions[0] == 10, "the refused record's offset is committed with them")
        await engine.finishBatch(retried, committed: true)
        #expect(await engine.published.count == 2, "a committed batch records its results")
        #expect(await engine.takeBatch() == nil, "nothing pending")
    }

    @Test("A committed result is recorded only for an account still held: a tombstone or a revocation while its batch is in flight leaves nothing behind")
    func committedResultsOfAccountsGone() async throws {
        let engine = await EngineFixture.engine(accounts: TestWorld.accounts(btc: 2, eth: 0))
        let batch = try #require(await engine.takeBatch())
        #expect(batch.pendingResults.count == 2)
        // b0 is deleted (a tombstone) while the batch is being published.
        await engine.handleAccounts(.record(EngineFixture.source(EngineFixture.Topic.accounts, offset: 2, key: "b0"), id: "b0", account: .success(nil)))
        await engine.finishBatch(batch, committed: true)
        let published = await engine.published
        #expect(published[AccountKey(partition: 0, id: "b0")] == nil)
        #expect(published[AccountKey(partition: 0, id: "b1")] != nil && published.count == 1)
        await engine.commitBatch()
        await engine.handleAccounts(.revoked([0]))
        #expect(await engine.published.count == 0, "a revoked shard's results are released with it")
    }
}
