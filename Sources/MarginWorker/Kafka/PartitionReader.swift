import Foundation
import KafkaClient
import Logging
import MarginEngineCore
import Metrics

/// Reads compacted state partitions whole, from the beginning to their end: the liquidation
/// state a shard restores, the calibrator's parameter sets and daily closes. A read that fails is
/// an error, never an empty partition.
public enum PartitionReader {
    /// Reads a partition whole (``read(configuration:topic:partition:kind:logger:)``), retrying
    /// every second while it fails (each failure logged and counted in
    /// `margin_restore_failures_total{kind}`): the shard stays restoring until its state is read,
    /// never served as if it had none.
    public static func readRetrying(configuration: WorkerConfiguration, topic: String, partition: Int32, kind: String,
                                    logger: Logger) async -> [KafkaMessage] {
        while true {
            switch await read(configuration: configuration, topic: topic, partition: partition, kind: kind, logger: logger) {
            case .success(let messages):
                return messages
            case .failure(let error):
                logger.error("cannot restore \(topic)[\(partition)]; retrying", metadata: ["error": "\(error)"])
                Counter(label: "margin_restore_failures_total", dimensions: [("instance", configuration.instanceID), ("kind", kind)]).increment()
                try? await Task.sleep(for: .seconds(1))
                if Task.isCancelled { return [] }
            }
        }
    }

    /// Reads a partition from its beginning to its current end (restores co-partitioned state), or
    /// the error that kept it from doing so.
    public static func read(configuration: WorkerConfiguration, topic: String, partition: Int32, kind: String,
                            logger: Logger) async -> Result<[KafkaMessage], KafkaError> {
        let tp = TopicPartition(topic: topic, partition: partition)
        do throws(KafkaError) {
            let consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(
                common: configuration.kafkaCommon(clientID: "\(configuration.instanceID)-restore"), fetchWaitMaxMs: 10,
                partitionEndEvents: true), logger: logger)
            defer { Task { await consumer.close() } }
            let high = try await consumer.watermarks(for: tp).high
            guard high > 0 else { return .success([]) }
            try consumer.assign([tp: .beginning])
            // Bounded: past `restore_timeout_ms` the consumer is closed (ending its events), logged
            // and counted; what was read is used.
            let timeout = configuration.engine.restoreTimeout
            let watchdog = Task {
                try? await Task.sleep(for: timeout)
                if !Task.isCancelled { await consumer.close() }
            }
            defer { watchdog.cancel() }
            let start = ContinuousClock.now
            var reachedEnd = false
            var messages: [KafkaMessage] = []
            // Until the partition's end: the last record's offset + 1 can stay below the high
            // watermark for good (a transaction's commit marker is never delivered).
            for await event in consumer.events {
                if case .message(let message) = event {
                    messages.append(message)
                    if message.offset + 1 >= high { reachedEnd = true }
                } else if case .partitionEnd(tp, _) = event {
                    reachedEnd = true
                }
                if reachedEnd { break }
            }
            if !reachedEnd {
                logger.error("restore of \(tp) timed out", metadata: [
                    "after_ms": "\((ContinuousClock.now - start).components.seconds * 1000)", "records": "\(messages.count)", "high": "\(high)"])
                Counter(label: "margin_restore_timeouts_total", dimensions: [("instance", configuration.instanceID), ("kind", kind)]).increment()
            }
            return .success(messages)
        } catch {
            return .failure(error)
        }
    }

    /// Every record of a small compacted topic, all partitions, each read with
    /// ``readRetrying(configuration:topic:partition:kind:logger:)`` (a partition that cannot be read
    /// is retried until it can or the task is cancelled).
    public static func readTopic(configuration: WorkerConfiguration, topic: String, kind: String, logger: Logger) async throws(KafkaError)
        -> [KafkaMessage] {
        let probe = try KafkaProducer(configuration: KafkaProducerConfiguration(common: configuration.kafkaCommon(clientID: "\(configuration.instanceID)-probe")),
                                      logger: logger)
        let partitions: [Int32]
        do { partitions = try await probe.partitions(of: topic) } catch {
            try? await probe.close() // nothing was produced: the metadata error is the one to report
            throw error
        }
        try await probe.close()
        var messages: [KafkaMessage] = []
        for partition in partitions {
            messages += await readRetrying(configuration: configuration, topic: topic, partition: partition, kind: kind, logger: logger)
        }
        return messages
    }
}
