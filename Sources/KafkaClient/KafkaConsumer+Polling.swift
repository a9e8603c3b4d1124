import CRdKafka
import Foundation
import Logging
import Synchronization

/// The polling thread's turn: flow control, one poll, the event copied into Swift values.
extension KafkaConsumer {
    // MARK: Polling thread

    /// One turn of the polling thread. It always polls (so rebalance callbacks, logs and
    /// statistics are served); when the buffer is full it first gives the application up to
    /// 100 ms to drain it to half (asleep on the buffer's condition), and only if it has not does
    /// ``ConsumerFlowControl`` pause the assignment instead of fetching more, resuming it once the
    /// buffer has drained to half. The grace keeps a consumer that outruns a fast application from
    /// pausing at every full buffer: librdkafka 2.0.2 drops a paused partition's prefetched records
    /// and fetches again only about a second after the resume, which capped the worker's restore at
    /// one buffer per second.
    static func pollOnce(handle: RdKafkaHandle, buffer: ConsumerEventBuffer) {
        if buffer.count >= buffer.capacity {
            buffer.waitUntilDrained(to: buffer.capacity / 2, timeout: .milliseconds(100))
        }
        let count = buffer.count
        let context = handle.context
        let action = context.flow.withLock { $0.bufferLevel(count, capacity: buffer.capacity) }
        if let error = run(action, on: handle.pointer) {
            context.flow.withLock { $0.assignmentActionFailed(action) }
            buffer.push(.error(error))
        }
        guard let message = rd_kafka_consumer_poll(handle.pointer, 100) else { return }
        let event = event(from: message)
        rd_kafka_message_destroy(message)
        if let event { buffer.push(event) }
    }

    /// Runs a flow-control action; returns the error that kept it from running.
    static func run(_ action: ConsumerFlowControl.Action, on rk: OpaquePointer) -> KafkaError? {
        let partitions: [TopicPartition]
        let pause: Bool
        switch action {
        case .none:
            return nil
        case .pause(let list), .resume(let list):
            partitions = list
            pause = if case .pause = action { true } else { false }
        case .pauseAssignment(let except), .resumeAssignment(let except):
            do {
                partitions = try readAssignment(rk).filter { !except.contains($0) }
            } catch {
                return error
            }
            pause = if case .pauseAssignment = action { true } else { false }
        }
        guard !partitions.isEmpty else { return nil }
        return TopicPartitionList.with(partitions.map { ($0, nil) }) { list in
            let error = pause ? rd_kafka_pause_partitions(rk, list) : rd_kafka_resume_partitions(rk, list)
            if error != RD_KAFKA_RESP_ERR_NO_ERROR { return KafkaError(code: error, context: pause ? "pause" : "resume") }
            return TopicPartitionList.firstError(list)
        }
    }

    static func readAssignment(_ rk: OpaquePointer) throws(KafkaError) -> [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        let error = rd_kafka_assignment(rk, &list)
        defer { if let list { rd_kafka_topic_partition_list_destroy(list) } }
        if error != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(code: error, context: "assignment") }
        return TopicPartitionList.read(list).map(\.partition).sorted()
    }

    /// Leaves the group; the final revocation arrives through the rebalance callback.
    static func leaveGroup(handle: RdKafkaHandle, buffer: ConsumerEventBuffer, logger: Logger) {
        let error = rd_kafka_consumer_close(handle.pointer)
        if error != RD_KAFKA_RESP_ERR_NO_ERROR {
            let failure = KafkaError(code: error, context: "consumer close")
            logger.error("\(failure)")
            buffer.push(.error(failure))
        }
        handle.context.flow.withLock { $0.closed() }
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
}
