import CRdKafka
import Dispatch
import Logging
import Synchronization

/// What the C callbacks of one librdkafka instance reach through its opaque pointer. It lives
/// as long as the handle (the handle holds it strongly; the opaque is unretained).
final class KafkaCallbackContext: Sendable {
    let logger: Logger
    let name: String
    /// Where a consumer's rebalance and error events go (nil for producers).
    let events: ConsumerEventBuffer?
    /// Failures of records sent without awaiting their delivery, reported by the next flush.
    let deliveryFailures = Mutex<[KafkaError]>([])
    let statistics: KafkaStatisticsRecorder
    /// Consumer flow control (``ConsumerFlowControl``), shared by the polling thread, the
    /// rebalance callback and the application's pause/resume.
    let flow = Mutex(ConsumerFlowControl())
    /// Offset newly assigned partitions start at (nil: committed).
    let assignmentStartOffset: KafkaOffset?

    init(logger: Logger, name: String, events: ConsumerEventBuffer?, assignmentStartOffset: KafkaOffset? = nil) {
        self.assignmentStartOffset = assignmentStartOffset
        self.logger = logger
        self.name = name
        self.events = events
        self.statistics = KafkaStatisticsRecorder(client: name)
    }

    static func from(_ opaque: UnsafeMutableRawPointer?) -> KafkaCallbackContext? {
        opaque.map { Unmanaged<KafkaCallbackContext>.fromOpaque($0).takeUnretainedValue() }
    }
}

/// Owns one `rd_kafka_t` and the queue its blocking calls run on (never the cooperative pool).
final class RdKafkaHandle: @unchecked Sendable {
    /// `rd_kafka_t *`, valid until `deinit`.
    let pointer: OpaquePointer
    let context: KafkaCallbackContext
    private let blockingQueue: DispatchQueue

    init(type: rd_kafka_type_t, properties: [(String, String)], context: KafkaCallbackContext,
         configure: (OpaquePointer) -> Void) throws(KafkaError) {
        guard let conf = rd_kafka_conf_new() else { throw .configuration("rd_kafka_conf_new failed") }
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in properties {
            let result = rd_kafka_conf_set(conf, key, value, &errorText, errorText.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw .configuration("\(key): \(String(nulTerminated: errorText))")
            }
        }
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
        rd_kafka_conf_set_log_cb(conf, kafkaLogCallback)
        rd_kafka_conf_set_error_cb(conf, kafkaErrorCallback)
        rd_kafka_conf_set_stats_cb(conf, kafkaStatisticsCallback)
        configure(conf)
        guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf) // not consumed on failure
            throw .configuration(String(nulTerminated: errorText))
        }
        self.pointer = handle
        self.context = context
        self.blockingQueue = DispatchQueue(label: "kafka.\(context.name).blocking")
        context.logger.debug("librdkafka client created", metadata: [
            "client": "\(context.name)", "librdkafka": "\(String(cString: rd_kafka_version_str()))",
            "config": "\(KafkaConfiguration.redacted(properties).map { "\($0.0)=\($0.1)" }.joined(separator: " "))",
        ])
    }

    deinit {
        rd_kafka_destroy(pointer)
    }

    /// Runs a blocking librdkafka call on this handle's queue and awaits its result.
    func blocking<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) -> Result<T, KafkaError>) async throws(KafkaError) -> T {
        let pointer = UncheckedPointer(self.pointer)
        let result: Result<T, KafkaError> = await withCheckedContinuation { continuation in
            blockingQueue.async { continuation.resume(returning: body(pointer.value)) }
        }
        return try result.get()
    }
}

/// A C handle carried across a queue hop; librdkafka handles are thread-safe.
struct UncheckedPointer: @unchecked Sendable {
    let value: OpaquePointer

    init(_ value: OpaquePointer) {
        self.value = value
    }
}

extension String {
    /// Text of a NUL-terminated C buffer (librdkafka's `errstr` arrays).
    init(nulTerminated buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

// MARK: - C callbacks (file scope: no captured context, no actor isolation)

private func kafkaLogCallback(_ rk: OpaquePointer?, _ level: Int32, _ facility: UnsafePointer<CChar>?, _ message: UnsafePointer<CChar>?) {
    guard let rk, let context = KafkaCallbackContext.from(rd_kafka_opaque(rk)) else { return }
    let text = message.map { String(cString: $0) } ?? ""
    let fac = facility.map { String(cString: $0) } ?? ""
    let logLevel: Logger.Level
    switch level {
    case ...2: logLevel = .critical
    case 3: logLevel = .error
    case 4: logLevel = .warning
    case 5, 6: logLevel = .info
    default: logLevel = .debug
    }
    context.logger.log(level: logLevel, "\(text)", metadata: ["client": "\(context.name)", "facility": "\(fac)"], source: "librdkafka")
}

private func kafkaErrorCallback(_ rk: OpaquePointer?, _ code: Int32, _ reason: UnsafePointer<CChar>?, _ opaque: UnsafeMutableRawPointer?) {
    guard let context = KafkaCallbackContext.from(opaque) else { return }
    let err = rd_kafka_resp_err_t(code)
    var error = KafkaError(code: err, context: reason.map { String(cString: $0) })
    if err == RD_KAFKA_RESP_ERR__FATAL, let rk {
        // The underlying fatal error names the real cause (e.g. fencing).
        var text = [CChar](repeating: 0, count: 512)
        let original = rd_kafka_fatal_error(rk, &text, text.count)
        error = KafkaError(code: original.rawValue, name: String(cString: rd_kafka_err2name(original)),
                           message: String(nulTerminated: text), kind: .fatal)
    }
    let level: Logger.Level = error.kind == .fatal ? .critical : .warning
    context.logger.log(level: level, "kafka error: \(error)", metadata: ["client": "\(context.name)"])
    if error.kind == .fatal || err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN {
        context.events?.push(.error(error))
    }
}

private func kafkaStatisticsCallback(_ rk: OpaquePointer?, _ json: UnsafeMutablePointer<CChar>?, _ length: Int, _ opaque: UnsafeMutableRawPointer?) -> Int32 {
    guard let context = KafkaCallbackContext.from(opaque), let json else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: json, count: length)
    context.statistics.record(json: Array(bytes))
    return 0 // librdkafka frees the JSON
}
