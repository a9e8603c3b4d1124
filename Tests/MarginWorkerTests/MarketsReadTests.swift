import Foundation
import KafkaClient
import MarginCore
import MarginSchema
import Testing
@testable import MarginWorker

/// One definition of the markets an account's valuation reads, for re-margin triggers and staleness.
@Suite("Markets an account reads")
struct MarketsReadTests {
    @Test("A collateral asset with its own market: its ticks re-margin the account and its staleness marks it stale")
    func collateralMarket() async throws {
        let clock = TestClock(1_700_000_000_000)
        var configuration = WorkerConfiguration()
        configuration.staleAfterMs = 10_000
        let engine = MarginEngine(configuration: configuration, outputs: OutputPublisher(configuration: configuration, logger: WorkerHarness.logger),
                                  logger: WorkerHarness.logger, clock: { clock.value })
        let topics = configuration.topics
        let weeth = Instrument(name: "WEETH", underlying: "ETH", kind: .spot)
        let instruments = TestWorld.instruments + [weeth]
        var offset: Int64 = 0
        func record(_ topic: String, _ key: String, _ value: Data) -> KafkaMessage {
            offset += 1
            return KafkaMessage(topic: topic, partition: 0, offset: offset, key: Data(key.utf8), value: value, headers: [], timestampMs: clock.value)
        }
        let now = clock.value
        var records = instruments.map { record(topics.instruments, $0.name, SchemaCoding.encode($0.proto, format: .protobuf)) }
        for market in [TestWorld.btc(index: 60_000, at: now), TestWorld.eth(index: 3_000, at: now), TestWorld.usdc(at: now),
                       UnderlyingMarket(underlying: "WEETH", timestampMs: now, indexPrice: 3_100)] {
            records.append(record(topics.market, market.underlying, SchemaCoding.encode(market.proto, format: .protobuf)))
        }
        await engine.setReferenceTargets([TopicPartition(topic: topics.instruments, partition: 0): Int64(instruments.count),
                                          TopicPartition(topic: topics.market, partition: 0): offset + 1])
        for r in records { await engine.handleReference(.message(r)) }
        await engine.assignShards(ShardAssignment.restoring([TopicPartition(topic: topics.accounts, partition: 0)], to: { _ in 0 }))
        let account = Account(id: "c", version: 1, balances: ["USDC": 1_000, "WEETH": 10],
                              positions: [Position(instrument: "ETH-PERPETUAL", quantity: -5, averageEntryPrice: 3_000)])
        await engine.handleAccounts(.message(KafkaMessage(topic: topics.accounts, partition: 0, offset: 0, key: Data("c".utf8),
                                                          value: SchemaCoding.encode(account.proto, format: .protobuf), headers: [], timestampMs: now)))
        await engine.tick()
        let key = AccountKey(partition: 0, id: "c")
        #expect(await engine.exposedAccounts["WEETH"]?.contains(key) == true, "WEETH ticks re-margin the account")
        #expect(await engine.exposedAccounts["ETH"]?.contains(key) == true)
        // WEETH goes stale while ETH, BTC and USDC stay fresh: the account is stale.
        clock.advance(20_000)
        for market in [TestWorld.btc(index: 60_000, at: clock.value), TestWorld.eth(index: 3_000, at: clock.value), TestWorld.usdc(at: clock.value)] {
            await engine.handleReference(.message(record(topics.market, market.underlying, SchemaCoding.encode(market.proto, format: .protobuf))))
        }
        await engine.tick()
        #expect(await engine.status().staleUnderlyings == ["WEETH"])
        #expect(await engine.shards[0]?.accounts["c"]?.effectiveHealth == .stale)
    }
}
