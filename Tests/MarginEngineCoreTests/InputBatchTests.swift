import EngineTestSupport
import MarginCore
import Testing
@testable import MarginEngineCore

/// Adapters hand the engine what their consumer has buffered in one visit: a batch must do
/// exactly what its events would do one at a time.
@Suite("Input batches")
struct InputBatchTests {
    /// Reference records (one of them unreadable), accounts records (one unreadable, one an older
    /// version), a partition end and a consumer error, in consumer order.
    static func events() -> (reference: [ReferenceEvent], accounts: [AccountsEvent]) {
        let reference = TestWorld.instruments.enumerated().map { EngineFixture.instrument($1, offset: Int64($0)) }
            + [.record(EngineFixture.source(EngineFixture.Topic.instruments, offset: Int64(TestWorld.instruments.count), key: "bad"),
                       input: .failure(.invalidInput(field: "instrument", reason: "unreadable")))]
            + EngineFixture.markets.enumerated().map { EngineFixture.market($1, offset: Int64($0)) }
            + [.error("broker down")]
        var accounts = TestWorld.accounts(btc: 3, eth: 2).enumerated().map { EngineFixture.account($1, offset: Int64($0)) }
        accounts.append(.record(EngineFixture.source(EngineFixture.Topic.accounts, offset: 5, key: "x"), id: "x",
                                account: .failure(.invalidInput(field: "account", reason: "unreadable"))))
        accounts.append(EngineFixture.account(TestWorld.accounts(btc: 1, eth: 0, version: 0)[0], offset: 6))
        accounts.append(.partitionEnd(partition: 0, next: 8))
        accounts.append(.error("rebalance in progress"))
        return (reference, accounts)
    }

    static func engine() async -> MarginEngine {
        let engine = MarginEngine(settings: EngineSettings(), preset: EngineFixture.preset, logger: EngineFixture.logger, clock: { EngineFixture.now })
        await engine.setReferenceTargets([InputPartition(topic: EngineFixture.Topic.instruments, partition: 0): Int64(TestWorld.instruments.count + 1),
                                          InputPartition(topic: EngineFixture.Topic.market, partition: 0): Int64(EngineFixture.markets.count)])
        await engine.assignShards([ShardAssignment(partition: 0, restoreTarget: 8)])
        return engine
    }

    /// Each output as one line (kind, id, account or source), sorted: outputs of different
    /// accounts in one window are in no defined order (each engine's sets order them).
    static func describe(_ batch: OutputBatch) -> [String] {
        batch.outputs.map { output in
            switch output {
            case .result(let id, let result): "result \(id) \(result)".prefix(200).description
            case .deadLetter(let letter): "dead letter \(letter.id) \(letter.source.partition) \(letter.source.offset)"
            default: "\(output)".prefix(200).description
            }
        }.sorted()
    }

    @Test("A batch's outputs, positions and served state equal those of its events one at a time")
    func batchEqualsSequence() async throws {
        let (reference, accounts) = Self.events()
        let single = await Self.engine()
        for event in reference { await single.handleReference(event) }
        for event in accounts { await single.handleAccounts(event) }
        await single.tick()
        let batched = await Self.engine()
        await batched.handleReference(Array(reference.prefix(3)))
        await batched.handleReference(Array(reference.dropFirst(3)))
        await batched.handleAccounts(accounts)
        await batched.tick()

        let one = try #require(await single.takeBatch())
        let other = try #require(await batched.takeBatch())
        #expect(one.results.count == 5 && one.deadLetters.count == 2, "five accounts margined; the bad instrument and account dead-lettered")
        #expect(Self.describe(other) == Self.describe(one))
        #expect(other.positions == one.positions && one.positions[0] == 7)
        #expect(await batched.accounts[0]?.isServing == true)
        #expect(batched.view.snapshot?.isReady == true && single.view.snapshot?.isReady == true)
    }
}
