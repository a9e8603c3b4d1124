import Foundation
import KafkaClient
import MarginCore
import MarginSchema
import TestSupport
@testable import MarginWorker

/// Engines fed directly, without a broker: the one builder of the worker's unit tests.
enum EngineFixture {
    static let now: Int64 = 1_700_000_000_000

    static func record(_ topic: String, _ key: String, _ value: Data?, offset: Int64, partition: Int32 = 0, at time: Int64 = now) -> KafkaMessage {
        KafkaMessage(topic: topic, partition: partition, offset: offset, key: Data(key.utf8), value: value, headers: [], timestampMs: time)
    }

    static func accountRecord(_ account: Account, offset: Int64, partition: Int32 = 0) -> KafkaMessage {
        record(TopicNames().accounts, account.id, SchemaCoding.encode(account.proto, format: .protobuf), offset: offset, partition: partition)
    }

    static func marketRecord(_ market: UnderlyingMarket, offset: Int64) -> KafkaMessage {
        record(TopicNames().market, market.underlying, SchemaCoding.encode(market.proto, format: .protobuf), offset: offset, at: market.timestampMs)
    }

    /// The markets of ``TestWorld`` at `now`: BTC 60,000, ETH 3,000, USDC.
    static var markets: [UnderlyingMarket] {
        [TestWorld.btc(index: 60_000, at: now), TestWorld.eth(index: 3_000, at: now), TestWorld.usdc(at: now)]
    }

    /// An engine whose reference topics (``TestWorld`` instruments by default, `markets`, and
    /// `parameters` on the params topic) are restored (which builds the books), with accounts
    /// partition 0 assigned and restored at once, `accounts` read from it, and one tick run.
    static func engine(configuration: WorkerConfiguration = WorkerConfiguration(), clock: @escaping @Sendable () -> Int64 = { now },
                       instruments: [Instrument] = TestWorld.instruments, markets: [UnderlyingMarket] = markets,
                       parameters: RiskParameters? = nil, accountsPartitionCount: Int? = nil,
                       accounts: [Account] = []) async -> MarginEngine {
        let engine = MarginEngine(configuration: configuration, logger: WorkerHarness.logger, clock: clock)
        let topics = configuration.topics
        var targets = [TopicPartition(topic: topics.instruments, partition: 0): Int64(instruments.count),
                       TopicPartition(topic: topics.market, partition: 0): Int64(markets.count)]
        if parameters != nil { targets[TopicPartition(topic: topics.params, partition: 0)] = 1 }
        await engine.setReferenceTargets(targets)
        for (i, instrument) in instruments.enumerated() {
            await engine.handleReference(.message(record(topics.instruments, instrument.name,
                                                         SchemaCoding.encode(instrument.proto, format: .protobuf), offset: Int64(i))))
        }
        for (i, market) in markets.enumerated() { await engine.handleReference(.message(marketRecord(market, offset: Int64(i)))) }
        if let parameters {
            await engine.handleReference(.message(record(topics.params, parameters.id, SchemaCoding.encode(parameters.proto, format: .protobuf), offset: 0)))
        }
        if let accountsPartitionCount { await engine.setAccountsPartitionCount(accountsPartitionCount) }
        await engine.assignShards(ShardAssignment.restoring([TopicPartition(topic: topics.accounts, partition: 0)], to: { _ in 0 }))
        for (i, account) in accounts.enumerated() { await engine.handleAccounts(.message(accountRecord(account, offset: Int64(i)))) }
        await engine.tick()
        return engine
    }
}
