import CRdKafka
import Foundation
import Logging
import Synchronization

/// A Kafka consumer: group subscription with the cooperative-sticky assignor, or manual
/// assignment; events (records, rebalances, errors) as an `AsyncSequence` fed by a dedicated
/// polling thread with a bounded buffer.
///
/// All methods are thread-safe. Blocking librdkafka calls run on the consumer's own queue, never
/// on the cooperative thread pool. Call ``close()`` to leave the group cleanly; it ends ``events``.
public final class KafkaConsumer: Sendable {
    public let configuration: KafkaConsumerConfiguration
    /// Records, rebalances and errors in order. Iterate from one task only.
    public let events: KafkaConsumerEvents
    let handle: RdKafkaHandle
    private let buffer: ConsumerEventBuffer
    private let poller: PollingThread
    private let logger: Logger

    public init(configuration: KafkaConsumerConfiguration, logger: Logger = Logger(label: "kafka.consumer")) throws(KafkaError) {
        self.configuration = configuration
        self.logger = logger
        let buffer = ConsumerEventBuffer(capacity: configuration.bufferCapacity)
        self.buffer = buffer
        self.events = KafkaConsumerEvents(buffer: buffer)
        let context = KafkaCallbackContext(logger: logger, name: configuration.common.clientID, events: buffer,
                                           assignmentStartOffset: configuration.assignmentStartOffset)
        handle = try RdKafkaHandle(type: RD_KAFKA_CONSUMER, properties: configuration.librdkafkaProperties(), context: context) { conf in
            rd_kafka_conf_set_rebalance_cb(conf, kafkaRebalanceCallback)
        }
        // Serve logs, errors and statistics from the consumer queue, i.e. from our polling thread.
        rd_kafka_poll_set_consumer(handle.pointer)
        let handle = self.handle
        poller = PollingThread.start(
            name: "kafka-consumer-\(configuration.common.clientID)",
            iteration: { Self.pollOnce(handle: handle, buffer: buffer) },
            finish: { Self.leaveGroup(handle: handle, buffer: buffer, logger: logger) })
    }

    /// Events waiting in the buffer. Records stop being fetched once it reaches
    /// ``KafkaConsumerConfiguration/bufferCapacity`` (rebalance and error events are never held back).
    public var bufferedEventCount: Int { buffer.count }

    /// Latest consumer lag per partition from librdkafka's statistics (needs `statisticsIntervalMs`).
    public var consumerLag: [TopicPartition: Int64] { handle.context.statistics.consumerLag }

    /// Statistics reports received so far (every `statisticsIntervalMs`); a lag read after this
    /// count has grown by two was reported entirely after the moment the count was taken.
    public var statisticsReportCount: Int { handle.context.statistics.reportCount }

    // MARK: Assignment

    /// Joins the group (``KafkaConsumerConfiguration/groupID``) on `topics`; assignments and
    /// revocations arrive as events.
    public func subscribe(topics: [String]) throws(KafkaError) {
        try checkOpen()
        guard configuration.groupID != nil else { throw .configuration("subscribe needs a group id") }
        let error = TopicPartitionList.with(topics.map { (TopicPartition(topic: $0, partition: crdkafka_partition_unassigned()), nil) }) { list in
            rd_kafka_subscribe(handle.pointer, list)
        }
        if error != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(code: error, context: "subscribe") }
    }

    /// Replaces the assignment with explicit partitions at explicit offsets (no group management),
    /// for topics read whole by every instance.
    public func assign(_ partitions: [TopicPartition: KafkaOffset]) throws(KafkaError) {
        try checkOpen()
        let entries = partitions.sorted { $0.key < $1.key }.map { ($0.key, Optional($0.value)) }
        let error = TopicPartitionList.with(entries) { rd_kafka_assign(handle.pointer, $0) }
        if error != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(code: error, context: "assign") }
    }

    /// The current assignment.
    public func assignment() throws(KafkaError) -> [TopicPartition] {
        try Self.readAssignment(handle.pointer)
    }

    /// Assigns every partition of `topics` from the beginning (topics read whole) and returns them.
    @discardableResult
    public func assignWhole(topics: [String], timeoutMs: Int = 10_000) async throws(KafkaError) -> [TopicPartition] {
        var partitions: [TopicPartition] = []
        for topic in topics {
            for partition in try await self.partitions(of: topic, timeoutMs: timeoutMs) {
                partitions.append(TopicPartition(topic: topic, partition: partition))
            }
        }
        try assign(Dictionary(uniqueKeysWithValues: partitions.map { ($0, KafkaOffset.beginning) }))
        return partitions
    }

    // MARK: Flow control and positions

    /// Stops fetching `partitions` until ``resume(_:)``. Throws ``KafkaError/closed`` after ``close()``.
    public func pause(_ partitions: [TopicPartition]) throws(KafkaError) {
        let action = try handle.context.flow.withLock { (flow) throws(KafkaError) in try flow.pause(partitions) }
        if let error = Self.run(action, on: handle.pointer) { throw error }
    }

    /// Resumes fetching `partitions` (deferred while the event buffer is full). Throws
    /// ``KafkaError/closed`` after ``close()``.
    public func resume(_ partitions: [TopicPartition]) throws(KafkaError) {
        let action = try handle.context.flow.withLock { (flow) throws(KafkaError) in try flow.resume(partitions) }
        if let error = Self.run(action, on: handle.pointer) { throw error }
    }

    // MARK: Close

    /// Throws ``KafkaError/closed`` once ``close()`` has been called.
    func checkOpen() throws(KafkaError) {
        if handle.context.flow.withLock({ $0.isClosed }) { throw .closed }
    }

    /// Stops fetching, leaves the group (revocations are delivered), ends ``events``. Idempotent.
    /// A failure to leave the group cleanly is logged and delivered as an ``KafkaConsumerEvent/error(_:)``
    /// before the events end.
    public func close() async {
        handle.context.flow.withLock { $0.close() }
        await poller.stop()
    }

    deinit {
        // Dropped without close(): the thread leaves the group and ends.
        poller.requestStop()
    }
}
