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

    // MARK: Polling thread

    /// One turn of the polling thread. It always polls (so rebalance callbacks, logs and
    /// statistics are served); when the buffer is full it first gives the application up to
    /// 100 ms to drain it to half, and only if it has not pauses the assignment instead of
    /// fetching more, resuming it once the buffer has drained to half. The grace keeps a consumer
    /// that outruns a fast application from pausing at every full buffer: librdkafka 2.0.2 drops a
    /// paused partition's prefetched records and fetches again only about a second after the
    /// resume, which capped the worker's restore at one buffer per second.
    private static func pollOnce(handle: RdKafkaHandle, buffer: ConsumerEventBuffer) {
        if buffer.count >= buffer.capacity {
            buffer.waitUntilDrained(to: buffer.capacity / 2, timeoutMs: 100)
        }
        let count = buffer.count
        let context = handle.context
        let change: Bool? = context.flow.withLock { flow in
            if !flow.backPressured && count >= buffer.capacity {
                flow.backPressured = true
                return true
            }
            if flow.backPressured && count <= buffer.capacity / 2 {
                flow.backPressured = false
                return false
            }
            return nil
        }
        if let pause = change {
            let userPaused = context.flow.withLock { $0.userPaused }
            let partitions = currentAssignment(handle.pointer).filter { !userPaused.contains($0) }
            if !partitions.isEmpty {
                TopicPartitionList.with(partitions.map { ($0, nil) }) { list in
                    _ = pause ? rd_kafka_pause_partitions(handle.pointer, list) : rd_kafka_resume_partitions(handle.pointer, list)
                }
            }
        }
        guard let message = rd_kafka_consumer_poll(handle.pointer, 100) else { return }
        let event = event(from: message)
        rd_kafka_message_destroy(message)
        if let event { buffer.push(event) }
    }

    static func currentAssignment(_ rk: OpaquePointer) -> [TopicPartition] {
        (try? readAssignment(rk)) ?? []
    }

    static func readAssignment(_ rk: OpaquePointer) throws(KafkaError) -> [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        let error = rd_kafka_assignment(rk, &list)
        defer { if let list { rd_kafka_topic_partition_list_destroy(list) } }
        if error != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(code: error, context: "assignment") }
        return TopicPartitionList.read(list).map(\.partition).sorted()
    }

    /// Leaves the group; the final revocation arrives through the rebalance callback.
    private static func leaveGroup(handle: RdKafkaHandle, buffer: ConsumerEventBuffer, logger: Logger) {
        let error = rd_kafka_consumer_close(handle.pointer)
        if error != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning("consumer close: \(KafkaError(code: error))")
        }
        buffer.finish()
    }

    /// Copies a polled message into Swift values (the caller destroys it).
    static func event(from message: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaConsumerEvent? {
        let m = message.pointee
        if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
                return .partitionEnd(TopicPartition(topic: topic, partition: m.partition), nextOffset: m.offset)
            }
            let detail = m.payload.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: m.len), as: UTF8.self) }
            return .error(KafkaError(code: m.err, context: detail))
        }
        let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        let key = m.key.map { Data(bytes: $0, count: m.key_len) }
        let value = m.payload.map { Data(bytes: $0, count: m.len) }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        var headers: [KafkaHeader] = []
        var list: OpaquePointer?
        if rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list {
            var index = 0
            var name: UnsafePointer<CChar>?
            var bytes: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(list, index, &name, &bytes, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                headers.append(KafkaHeader(name: name.map { String(cString: $0) } ?? "", value: bytes.map { Data(bytes: $0, count: size) }))
                index += 1
            }
        }
        return .message(KafkaMessage(topic: topic, partition: m.partition, offset: m.offset, key: key, value: value, headers: headers,
                                     timestampMs: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp))
    }

    // MARK: Assignment

    /// Joins the group (``KafkaConsumerConfiguration/groupID``) on `topics`; assignments and
    /// revocations arrive as events.
    public func subscribe(topics: [String]) throws(KafkaError) {
        guard configuration.groupID != nil else { throw .configuration("subscribe needs a group id") }
        let error = TopicPartitionList.with(topics.map { (TopicPartition(topic: $0, partition: crdkafka_partition_unassigned()), nil) }) { list in
            rd_kafka_subscribe(handle.pointer, list)
        }
        if error != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(code: error, context: "subscribe") }
    }

    /// Replaces the assignment with explicit partitions at explicit offsets (no group management),
    /// for topics read whole by every instance.
    public func assign(_ partitions: [TopicPartition: KafkaOffset]) throws(KafkaError) {
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

    /// Stops fetching `partitions` until ``resume(_:)``.
    public func pause(_ partitions: [TopicPartition]) throws(KafkaError) {
        handle.context.flow.withLock { $0.userPaused.formUnion(partitions) }
        try flowControl(partitions, pause: true)
    }

    /// Resumes fetching `partitions` (deferred while the event buffer is full).
    public func resume(_ partitions: [TopicPartition]) throws(KafkaError) {
        let backPressured = handle.context.flow.withLock { flow -> Bool in
            flow.userPaused.subtract(partitions)
            return flow.backPressured
        }
        if !backPressured { try flowControl(partitions, pause: false) }
    }

    private func flowControl(_ partitions: [TopicPartition], pause: Bool) throws(KafkaError) {
        let result: KafkaError? = TopicPartitionList.with(partitions.map { ($0, nil) }) { list in
            let error = pause ? rd_kafka_pause_partitions(handle.pointer, list) : rd_kafka_resume_partitions(handle.pointer, list)
            if error != RD_KAFKA_RESP_ERR_NO_ERROR { return KafkaError(code: error, context: pause ? "pause" : "resume") }
            return TopicPartitionList.firstError(list)
        }
        if let result { throw result }
    }

    /// Moves the fetch position of assigned partitions.
    public func seek(_ positions: [TopicPartition: KafkaOffset], timeoutMs: Int = 10_000) async throws(KafkaError) {
        let entries = positions.sorted { $0.key < $1.key }.map { ($0.key, Optional($0.value)) }
        try await handle.blocking { (rk) -> Result<Void, KafkaError> in
            TopicPartitionList.with(entries) { list in
                if let error = rd_kafka_seek_partitions(rk, list, Int32(timeoutMs)) { return .failure(KafkaError(consuming: error)) }
                if let error = TopicPartitionList.firstError(list) { return .failure(error) }
                return .success(())
            }
        }
    }

    /// Marks `message` processed: its offset + 1 will be committed by the next commit.
    public func storeOffset(after message: KafkaMessage) throws(KafkaError) {
        try storeOffsets([message.topicPartition: KafkaOffset(message.offset + 1)])
    }

    /// Stores the next offsets to commit per partition.
    public func storeOffsets(_ offsets: [TopicPartition: KafkaOffset]) throws(KafkaError) {
        let entries = offsets.sorted { $0.key < $1.key }.map { ($0.key, Optional($0.value)) }
        let result: KafkaError? = TopicPartitionList.with(entries) { list in
            let error = rd_kafka_offsets_store(handle.pointer, list)
            if error != RD_KAFKA_RESP_ERR_NO_ERROR { return KafkaError(code: error, context: "offsets_store") }
            return TopicPartitionList.firstError(list)
        }
        if let result { throw result }
    }

    /// Commits the stored offsets (or `offsets` when given) and waits for the broker.
    public func commit(_ offsets: [TopicPartition: KafkaOffset]? = nil) async throws(KafkaError) {
        let entries = offsets.map { $0.sorted { $0.key < $1.key }.map { ($0.key, Optional($0.value)) } }
        try await handle.blocking { (rk) -> Result<Void, KafkaError> in
            let error: rd_kafka_resp_err_t
            if let entries {
                error = TopicPartitionList.with(entries) { rd_kafka_commit(rk, $0, 0) }
            } else {
                error = rd_kafka_commit(rk, nil, 0)
            }
            // Nothing stored since the last commit is not a failure.
            if error == RD_KAFKA_RESP_ERR_NO_ERROR || error == RD_KAFKA_RESP_ERR__NO_OFFSET { return .success(()) }
            return .failure(KafkaError(code: error, context: "commit"))
        }
    }

    /// Starts a commit of the stored offsets without waiting; failures are logged.
    public func commitAsync() throws(KafkaError) {
        let error = rd_kafka_commit(handle.pointer, nil, 1)
        if error != RD_KAFKA_RESP_ERR_NO_ERROR && error != RD_KAFKA_RESP_ERR__NO_OFFSET {
            throw KafkaError(code: error, context: "commit")
        }
    }

    /// The group's committed offsets (``KafkaOffset/invalid`` when none).
    public func committedOffsets(for partitions: [TopicPartition], timeoutMs: Int = 10_000) async throws(KafkaError) -> [TopicPartition: KafkaOffset] {
        try await handle.blocking { (rk) -> Result<[TopicPartition: KafkaOffset], KafkaError> in
            TopicPartitionList.with(partitions.map { ($0, nil) }) { list in
                let error = rd_kafka_committed(rk, list, Int32(timeoutMs))
                if error != RD_KAFKA_RESP_ERR_NO_ERROR { return .failure(KafkaError(code: error, context: "committed")) }
                var result: [TopicPartition: KafkaOffset] = [:]
                for entry in TopicPartitionList.read(list) {
                    if let error = entry.error { return .failure(error) }
                    result[entry.partition] = entry.offset
                }
                return .success(result)
            }
        }
    }

    /// Low and high watermarks from the partition leader (high = offset of the next record).
    public func watermarks(for partition: TopicPartition, timeoutMs: Int = 10_000) async throws(KafkaError) -> (low: Int64, high: Int64) {
        try await handle.blocking { (rk) -> Result<(low: Int64, high: Int64), KafkaError> in
            var low: Int64 = 0, high: Int64 = 0
            let error = rd_kafka_query_watermark_offsets(rk, partition.topic, partition.partition, &low, &high, Int32(timeoutMs))
            if error != RD_KAFKA_RESP_ERR_NO_ERROR { return .failure(KafkaError(code: error, context: "watermarks \(partition)")) }
            return .success((low, high))
        }
    }

    /// Partition ids of `topic` from the cluster metadata.
    public func partitions(of topic: String, timeoutMs: Int = 10_000) async throws(KafkaError) -> [Int32] {
        try await handle.blocking { rk in KafkaMetadata.partitions(rk: rk, topic: topic, timeoutMs: timeoutMs) }
    }

    /// The consumer's group metadata, for ``KafkaProducer/sendOffsetsToTransaction(_:groupMetadata:timeoutMs:)``.
    public func groupMetadata() throws(KafkaError) -> KafkaConsumerGroupMetadata {
        guard let metadata = rd_kafka_consumer_group_metadata(handle.pointer) else {
            throw .configuration("no consumer group metadata (no group id?)")
        }
        return KafkaConsumerGroupMetadata(pointer: metadata)
    }

    // MARK: Close

    /// Stops fetching, leaves the group (revocations are delivered), ends ``events``. Idempotent.
    public func close() async {
        await poller.stop()
    }

    deinit {
        // Dropped without close(): the thread leaves the group and ends.
        poller.requestStop()
    }
}

/// A consumer's group identity for transactional offset commits (opaque).
public final class KafkaConsumerGroupMetadata: @unchecked Sendable {
    let pointer: OpaquePointer

    init(pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        rd_kafka_consumer_group_metadata_destroy(pointer)
    }
}

// MARK: - Rebalance callback (file scope)

private func kafkaRebalanceCallback(_ rk: OpaquePointer?, _ error: rd_kafka_resp_err_t,
                                    _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
                                    _ opaque: UnsafeMutableRawPointer?) {
    guard let rk, let context = KafkaCallbackContext.from(opaque) else { return }
    let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
    let changed = TopicPartitionList.read(partitions).map(\.partition).sorted()
    switch error {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        if let start = context.assignmentStartOffset, let partitions, let elements = partitions.pointee.elems {
            for index in 0..<Int(partitions.pointee.cnt) { elements[index].offset = start.value }
        }
        if cooperative {
            if let failure = rd_kafka_incremental_assign(rk, partitions) {
                context.events?.push(.error(KafkaError(consuming: failure)))
            }
        } else {
            rd_kafka_assign(rk, partitions)
        }
        let (backPressured, userPaused) = context.flow.withLock { ($0.backPressured, $0.userPaused) }
        let toPause = changed.filter { backPressured || userPaused.contains($0) }
        if !toPause.isEmpty {
            TopicPartitionList.with(toPause.map { ($0, nil) }) { _ = rd_kafka_pause_partitions(rk, $0) }
        }
        context.logger.info("partitions assigned", metadata: ["client": "\(context.name)", "partitions": "\(changed)"])
        context.events?.push(.partitionsAssigned(changed))
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        // Report first, so that the revocation is ordered after every record already delivered.
        context.events?.push(.partitionsRevoked(changed))
        if cooperative {
            if let failure = rd_kafka_incremental_unassign(rk, partitions) {
                context.events?.push(.error(KafkaError(consuming: failure)))
            }
        } else {
            rd_kafka_assign(rk, nil)
        }
        let lost = rd_kafka_assignment_lost(rk) != 0
        context.logger.info("partitions revoked", metadata: ["client": "\(context.name)", "partitions": "\(changed)", "lost": "\(lost)"])
    default:
        context.logger.error("rebalance error: \(KafkaError(code: error))")
        rd_kafka_assign(rk, nil)
        context.events?.push(.error(KafkaError(code: error, context: "rebalance")))
    }
}
