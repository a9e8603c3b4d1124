import CRdKafka

/// An error reported by librdkafka or by this layer, with librdkafka's code and text.
///
/// `kind` tells a transactional caller what to do: retry the same call (`retriable`), abort the
/// transaction, rewind and retry (`abortable`), or stop and recreate the producer (`fatal`).
public struct KafkaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// How an error should be handled.
    public enum Kind: String, Sendable, Hashable {
        /// Transient: the same call may be retried.
        case retriable
        /// The current transaction must be aborted; rewind to the last committed offsets and retry.
        case abortable
        /// The client instance is unusable (e.g. fenced by a newer instance): recreate it.
        case fatal
        /// Anything else (configuration, usage, a definitive broker refusal).
        case other
    }

    /// librdkafka's `rd_kafka_resp_err_t` value (0 = no error; negative = client-side).
    public let code: Int32
    /// librdkafka's symbolic name, e.g. `_TIMED_OUT`, `PRODUCER_FENCED`.
    public let name: String
    public let message: String
    public let kind: Kind

    public init(code: Int32, name: String, message: String, kind: Kind) {
        self.code = code
        self.name = name
        self.message = message
        self.kind = kind
    }

    public var description: String { "\(name) (\(code)): \(message)" }

    /// Codes this layer uses for its own failures.
    public static let configurationCode: Int32 = -1000
    public static let closedCode: Int32 = -1001

    static func configuration(_ message: String) -> KafkaError {
        KafkaError(code: configurationCode, name: "CONFIGURATION", message: message, kind: .other)
    }

    /// The client was closed: no further calls are served.
    public static let closed = KafkaError(code: closedCode, name: "CLOSED", message: "the client is closed", kind: .other)

    /// From a response code (for APIs that return one).
    init(code: rd_kafka_resp_err_t, context: String? = nil) {
        let text = String(cString: rd_kafka_err2str(code))
        let kind: Kind
        switch code {
        case RD_KAFKA_RESP_ERR__FATAL, RD_KAFKA_RESP_ERR_PRODUCER_FENCED, RD_KAFKA_RESP_ERR__FENCED,
             RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH, RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
            kind = .fatal
        case RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
             RD_KAFKA_RESP_ERR_NOT_COORDINATOR, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
             RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, RD_KAFKA_RESP_ERR__QUEUE_FULL,
             RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
            kind = .retriable
        default:
            kind = .other
        }
        self.init(code: code.rawValue, name: String(cString: rd_kafka_err2name(code)),
                  message: context.map { "\($0): \(text)" } ?? text, kind: kind)
    }

    /// From an `rd_kafka_error_t`, which it destroys. Classification uses the error's own flags.
    init(consuming error: OpaquePointer) {
        defer { rd_kafka_error_destroy(error) }
        let kind: Kind
        if rd_kafka_error_is_fatal(error) != 0 {
            kind = .fatal
        } else if rd_kafka_error_txn_requires_abort(error) != 0 {
            kind = .abortable
        } else if rd_kafka_error_is_retriable(error) != 0 {
            kind = .retriable
        } else {
            kind = .other
        }
        let code = rd_kafka_error_code(error)
        self.init(code: code.rawValue, name: String(cString: rd_kafka_error_name(error)),
                  message: String(cString: rd_kafka_error_string(error)), kind: kind)
    }
}
