import Foundation
import KafkaClient
import Logging

/// Shared helpers: an embedded cluster per test, fast client settings, and event recording with
/// bounded waits (conditions are awaited, never slept on).
enum TestSupport {
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

    static func producer(_ cluster: EmbeddedKafkaCluster, transactionalID: String? = nil, client: String = "producer") throws -> KafkaProducer {
        try KafkaProducer(configuration: KafkaProducerConfiguration(
            common: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, clientID: client, properties: ["log_level": "3"]),
            transactionalID: transactionalID, lingerMs: 1, transactionTimeoutMs: 10_000), logger: logger)
    }
}

struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Runs `body` with a deadline.
func withDeadline<T: Sendable>(seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw TimedOut(what: what)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// Everything a set of consumers delivered, with waits on conditions over it.
actor EventRecorder {
    struct Entry: Sendable {
        var consumer: Int
        var event: KafkaConsumerEvent
    }

    private(set) var entries: [Entry] = []
    private var waiters: [Int: (condition: @Sendable ([Entry]) -> Bool, continuation: CheckedContinuation<Void, Never>)] = [:]
    private var nextWaiter = 0

    func append(_ consumer: Int, _ event: KafkaConsumerEvent) {
        entries.append(Entry(consumer: consumer, event: event))
        for (id, waiter) in waiters where waiter.condition(entries) {
            waiters[id] = nil
            waiter.continuation.resume()
        }
    }

    /// Returns when `condition` holds, or when the waiting task is cancelled (deadline).
    func wait(until condition: @escaping @Sendable ([Entry]) -> Bool) async {
        if condition(entries) { return }
        let id = nextWaiter
        nextWaiter += 1
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled { continuation.resume() } else { waiters[id] = (condition, continuation) }
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    private func cancel(_ id: Int) {
        waiters.removeValue(forKey: id)?.continuation.resume()
    }

    /// Starts a task feeding `consumer`'s events into the recorder.
    nonisolated func record(_ consumer: KafkaConsumer, as index: Int) -> Task<Void, Never> {
        Task {
            for await event in consumer.events { await self.append(index, event) }
        }
    }
}

extension [EventRecorder.Entry] {
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
