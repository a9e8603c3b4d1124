import Foundation
import KafkaClient
import TestSupport
import Logging

/// Shared helpers: an embedded cluster per test, fast client settings, and event recording with
/// bounded waits (conditions are awaited, never slept on).
enum KafkaTestSupport {
    static let logger: Logger = {
        var logger = Logger(label: "kafka-test", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = ProcessInfo.processInfo.environment["KAFKA_TEST_LOG"] != nil ? .debug : .critical
        return logger
    }()

    static func cluster(brokers: Int = 1, topics: [String: Int32]) throws -> EmbeddedKafkaCluster {
        let cluster = try EmbeddedKafkaCluster(brokers: brokers, logger: logger)
        for (topic, partitions) in topics { try cluster.createTopic(topic, partitions: partitions) }
        return cluster
    }

    static func consumerConfiguration(_ cluster: EmbeddedKafkaCluster, group: String?, client: String, capacity: Int = 1_000) -> KafkaConsumerConfiguration {
        KafkaConsumerConfiguration(
            common: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, clientID: client,
                                       properties: ProcessInfo.processInfo.environment["KAFKA_TEST_DEBUG"].map { ["debug": $0] } ?? ["log_level": "3"]),
            groupID: group, sessionTimeoutMs: 4_000, heartbeatIntervalMs: 200, maxPollIntervalMs: 10_000, fetchWaitMaxMs: 10, bufferCapacity: capacity)
    }

    /// A one-partition `topic` holding `count` keyed records of 10 bytes, and a consumer without a
    /// group assigned to it from the beginning, whose buffer holds at most `capacity` events (a
    /// reader slower than the broker back-pressures the polling thread). The cluster is returned to
    /// be kept alive.
    static func filledTopic(_ topic: String, records count: Int, readerCapacity capacity: Int) async throws -> (EmbeddedKafkaCluster, KafkaConsumer) {
        let cluster = try Self.cluster(topics: [topic: 1])
        let producer = try Self.producer(cluster)
        for index in 0..<count { try await producer.enqueue(ProducerRecord(topic: topic, key: "k\(index)", value: Data(count: 10))) }
        try await producer.flush()
        try await producer.close()
        let consumer = try KafkaConsumer(configuration: consumerConfiguration(cluster, group: nil, client: "\(topic)-reader", capacity: capacity), logger: logger)
        try consumer.assign([TopicPartition(topic: topic, partition: 0): .beginning])
        return (cluster, consumer)
    }

    static func producer(_ cluster: EmbeddedKafkaCluster, transactionalID: String? = nil, client: String = "producer") throws -> KafkaProducer {
        try KafkaProducer(configuration: KafkaProducerConfiguration(
            common: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, clientID: client, properties: ["log_level": "3"]),
            transactionalID: transactionalID, lingerMs: 1, transactionTimeoutMs: 10_000), logger: logger)
    }
}

/// One consumer event, tagged with the index of the consumer that delivered it.
struct RecordedEvent: Sendable {
    var consumer: Int
    var event: KafkaConsumerEvent
}

/// Everything a set of consumers delivered, with waits on conditions over it.
typealias EventRecorder = AwaitableLog<RecordedEvent>

extension AwaitableLog where Element == RecordedEvent {
    /// Starts a task feeding `consumer`'s events into the recorder.
    nonisolated func record(_ consumer: KafkaConsumer, as index: Int) -> Task<Void, Never> {
        Task {
            for await event in consumer.events { await self.append(RecordedEvent(consumer: index, event: event)) }
        }
    }
}

extension [RecordedEvent] {
    func messages(of consumer: Int? = nil) -> [KafkaMessage] {
        compactMap { entry in
            guard consumer == nil || entry.consumer == consumer, case .message(let message) = entry.event else { return nil }
            return message
        }
    }

    /// Current assignment of `consumer` from its assigned/revoked events.
    func assignment(of consumer: Int) -> Set<TopicPartition> {
        var owned = Set<TopicPartition>()
        for entry in self where entry.consumer == consumer {
            switch entry.event {
            case .partitionsAssigned(let partitions): owned.formUnion(partitions)
            case .partitionsRevoked(let partitions): owned.subtract(partitions)
            default: break
            }
        }
        return owned
    }
}
