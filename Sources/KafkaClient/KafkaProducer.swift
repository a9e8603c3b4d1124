import CRdKafka
import Foundation
import Logging
import Synchronization

/// A Kafka producer: keys, headers, explicit or murmur2 partitioning, delivery reports as async
/// results, flush, and transactions (see `KafkaProducer+Transactions.swift`).
///
/// A dedicated thread serves librdkafka's callbacks; blocking calls run on the producer's queue.
public final class KafkaProducer: Sendable {
    public let configuration: KafkaProducerConfiguration
    let handle: RdKafkaHandle
    private let poller: PollingThread
    let logger: Logger

    public init(configuration: KafkaProducerConfiguration, logger: Logger = Logger(label: "kafka.producer")) throws(KafkaError) {
        self.configuration = configuration
        self.logger = logger
        let context = KafkaCallbackContext(logger: logger, name: configuration.common.clientID, events: nil)
        handle = try RdKafkaHandle(type: RD_KAFKA_PRODUCER, properties: configuration.librdkafkaProperties(), context: context) { conf in
            rd_kafka_conf_set_dr_msg_cb(conf, kafkaDeliveryCallback)
        }
        let handle = self.handle
        poller = PollingThread.start(name: "kafka-producer-\(configuration.common.clientID)",
                                     iteration: { rd_kafka_poll(handle.pointer, 100) }, finish: {})
    }

    /// Produces a record and waits for its delivery report.
    public func send(_ record: ProducerRecord) async throws(KafkaError) -> DeliveryReport {
        var attempts = 0
        while true {
            let result: Result<DeliveryReport, KafkaError>? = await withCheckedContinuation { continuation in
                let box = DeliveryBox { continuation.resume(returning: $0) }
                let opaque = Unmanaged.passRetained(box).toOpaque()
                if let error = produceOnce(record, opaque: opaque) {
                    Unmanaged<DeliveryBox>.fromOpaque(opaque).release()
                    continuation.resume(returning: Self.isQueueFull(error) && attempts < Self.queueFullRetries ? nil : .failure(error))
                }
            }
            if let result { return try result.get() }
            attempts += 1
            await Self.backOff()
        }
    }

    /// Produces a record without waiting for its delivery; a delivery failure is reported by the
    /// next ``flush(timeoutMs:)`` (and by a transaction commit, which fails). A full local queue is
    /// retried after a short (non-blocking) pause while the polling thread drains it.
    public func enqueue(_ record: ProducerRecord) async throws(KafkaError) {
        var attempts = 0
        while let error = produceOnce(record, opaque: nil) {
            guard Self.isQueueFull(error), attempts < Self.queueFullRetries else { throw error }
            attempts += 1
            await Self.backOff()
        }
    }

    static let queueFullRetries = 500

    static func isQueueFull(_ error: KafkaError) -> Bool { error.code == RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue }

    static func backOff() async {
        try? await Task.sleep(for: .milliseconds(2))
    }

    private func produceOnce(_ record: ProducerRecord, opaque: UnsafeMutableRawPointer?) -> KafkaError? {
        // Copy everything into C memory that lives across the call; librdkafka copies (F_COPY).
        var cStrings: [UnsafeMutablePointer<CChar>] = [strdup(record.topic)]
        var buffers: [UnsafeMutableRawPointer] = []
        defer {
            cStrings.forEach { free($0) }
            buffers.forEach { $0.deallocate() }
        }
        func copy(_ data: Data) -> UnsafeMutableRawPointer {
            let pointer = UnsafeMutableRawPointer.allocate(byteCount: max(data.count, 1), alignment: 1)
            data.withUnsafeBytes { if let base = $0.baseAddress { pointer.copyMemory(from: base, byteCount: data.count) } }
            buffers.append(pointer)
            return pointer
        }
        var values: [rd_kafka_vu_t] = [
            crdkafka_vu_topic(cStrings[0]),
            crdkafka_vu_partition(record.partition ?? crdkafka_partition_unassigned()),
            crdkafka_vu_msgflags(RD_KAFKA_MSG_F_COPY),
        ]
        if let key = record.key { values.append(crdkafka_vu_key(copy(key), key.count)) }
        if let value = record.value { values.append(crdkafka_vu_value(copy(value), value.count)) }
        for header in record.headers {
            let name = strdup(header.name)!
            cStrings.append(name)
            if let value = header.value {
                values.append(crdkafka_vu_header(name, copy(value), value.count))
            } else {
                values.append(crdkafka_vu_header(name, nil, 0))
            }
        }
        if let timestamp = record.timestampMs { values.append(crdkafka_vu_timestamp(timestamp)) }
        if let opaque { values.append(crdkafka_vu_opaque(opaque)) }
        let error = values.withUnsafeBufferPointer { rd_kafka_produceva(handle.pointer, $0.baseAddress, $0.count) }
        guard let error else { return nil }
        return KafkaError(consuming: error)
    }

    /// Waits until every queued record is delivered or failed; throws the first failure of
    /// records sent with ``enqueue(_:)`` since the last flush.
    public func flush(timeoutMs: Int = 30_000) async throws(KafkaError) {
        let context = handle.context
        try await handle.blocking { (rk) -> Result<Void, KafkaError> in
            let error = rd_kafka_flush(rk, Int32(timeoutMs))
            if error != RD_KAFKA_RESP_ERR_NO_ERROR { return .failure(KafkaError(code: error, context: "flush")) }
            let failures = context.deliveryFailures.withLock { failures -> [KafkaError] in
                defer { failures = [] }
                return failures
            }
            if let first = failures.first { return .failure(first) }
            return .success(())
        }
    }

    /// Partition ids of `topic` from the cluster metadata.
    public func partitions(of topic: String, timeoutMs: Int = 10_000) async throws(KafkaError) -> [Int32] {
        try await handle.blocking { rk in KafkaMetadata.partitions(rk: rk, topic: topic, timeoutMs: timeoutMs) }
    }

    /// Flushes (bounded) and stops the polling thread; the handle is destroyed with the producer.
    /// The thread stops either way; a flush that failed (records not delivered, or the timeout
    /// passed with records still queued) is thrown afterwards, so the caller can report what was lost.
    public func close(timeoutMs: Int = 10_000) async throws(KafkaError) {
        var failure: KafkaError?
        do { try await flush(timeoutMs: timeoutMs) } catch { failure = error }
        await poller.stop()
        if let failure { throw failure }
    }

    deinit {
        poller.requestStop()
    }
}

/// Resumes one `send` when its delivery report arrives (retained through the message opaque).
final class DeliveryBox: Sendable {
    let complete: @Sendable (Result<DeliveryReport, KafkaError>) -> Void

    init(_ complete: @escaping @Sendable (Result<DeliveryReport, KafkaError>) -> Void) {
        self.complete = complete
    }
}

// MARK: - Delivery report callback (file scope)

private func kafkaDeliveryCallback(_ rk: OpaquePointer?, _ message: UnsafePointer<rd_kafka_message_t>?, _ opaque: UnsafeMutableRawPointer?) {
    guard let message else { return }
    let m = message.pointee
    let result: Result<DeliveryReport, KafkaError>
    if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
        let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        result = .success(DeliveryReport(topic: topic, partition: m.partition, offset: m.offset))
    } else {
        result = .failure(KafkaError(code: m.err, context: "delivery"))
    }
    if let perMessage = m._private {
        Unmanaged<DeliveryBox>.fromOpaque(perMessage).takeRetainedValue().complete(result)
    } else if case .failure(let error) = result, let context = KafkaCallbackContext.from(opaque) {
        context.logger.error("delivery failed: \(error)", metadata: ["client": "\(context.name)"])
        context.deliveryFailures.withLock { $0.append(error) }
    }
}
