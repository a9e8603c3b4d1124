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
        let published = await engine.accounts[0]?.accounts.values.compactMap(\.published).count
        #expect(published == 2)
        #expect(await engine.takeBatch() == nil, "nothing pending")
    }
}
