import Foundation
import KafkaClient
import Logging
import MarginCore
import MarginSchema
import MarginWorker

/// The demo's upstream: publishes the instruments, the opening market, the accounts and then each
/// replayed snapshot, as an exchange's pipeline would.
struct DemoInputs: Sendable {
    let producer: KafkaProducer
    let topics: TopicNames
    let logger: Logger

    init(bootstrapServers: String, topics: TopicNames, logger: Logger) throws(KafkaError) {
        producer = try KafkaProducer(configuration: KafkaProducerConfiguration(
            common: KafkaConfiguration(bootstrapServers: bootstrapServers, clientID: "demo-inputs", properties: ["log_level": "2"]),
            lingerMs: 5), logger: logger)
        self.topics = topics
        self.logger = logger
    }

    private func send(_ topic: String, _ key: String, _ data: Data) async throws {
        try await producer.enqueue(ProducerRecord(topic: topic, key: Data(key.utf8), value: data))
    }

    /// Instruments, USDC, the BTC opening snapshot and every account. USDC goes first: the
    /// calibrator starts from the market topic's latest record, the BTC opening snapshot, so its
    /// version 1 is the set the accounts were generated against.
    func publishOpening(market: DemoMarket, path: CrashPath, accounts: [Account]) async throws {
        for instrument in market.instruments { try await send(topics.instruments, instrument.name, try SchemaCoding.encode(instrument.proto, format: .protobuf)) }
        try await send(topics.market, "USDC", try SchemaCoding.encode(market.stablecoin(at: market.startMs).proto, format: .protobuf))
        try await send(topics.market, "BTC", try SchemaCoding.encode(market.snapshot(at: market.startMs, path: path).proto, format: .protobuf))
        for account in accounts { try await send(topics.accounts, account.id, try SchemaCoding.encode(account.proto, format: .protobuf)) }
        try await producer.flush()
    }

    /// One replayed step: the BTC snapshot and the stablecoin's.
    func publishTick(_ snapshot: UnderlyingMarket, stablecoin: UnderlyingMarket) async throws {
        try await send(topics.market, "BTC", try SchemaCoding.encode(snapshot.proto, format: .protobuf))
        try await send(topics.market, "USDC", try SchemaCoding.encode(stablecoin.proto, format: .protobuf))
        try await producer.flush()
    }

    func close() async {
        do { try await producer.close() } catch { logger.error("the demo's input producer closed with undelivered records: \(error)") }
    }
}
