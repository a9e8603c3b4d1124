import Foundation
import MarginCore
import SwiftProtobuf

/// Reading and writing the wire messages in either encoding: binary protobuf (the default on
/// Kafka) or the protobuf JSON mapping (the human format, chosen by `content-type: application/json`).
public enum SchemaCoding {
    public enum Format: String, Sendable, CaseIterable {
        case protobuf
        case json

        /// The Kafka `content-type` header value.
        public var contentType: String { self == .json ? "application/json" : "application/x-protobuf" }

        public init(contentType: String?) {
            self = contentType?.lowercased().hasPrefix("application/json") == true ? .json : .protobuf
        }
    }

    /// Decodes a message, naming the message type and the decoder's reason on failure.
    public static func decode<M: SwiftProtobuf.Message>(_ type: M.Type, from data: Data, format: Format) throws(MarginError) -> M {
        do {
            switch format {
            case .protobuf: return try M(serializedBytes: data)
            case .json:
                var options = JSONDecodingOptions()
                options.ignoreUnknownFields = false
                return try M(jsonUTF8Data: data, options: options)
            }
        } catch {
            throw .invalidInput(field: String(describing: M.protoMessageName), reason: "undecodable \(format.rawValue): \(error)")
        }
    }

    /// Encodes a message; JSON uses the proto field names (snake_case), as the schemas document them.
    /// Throws (naming the message type) instead of returning empty bytes that would be published.
    public static func encode<M: SwiftProtobuf.Message>(_ message: M, format: Format, pretty: Bool = false) throws(MarginError) -> Data {
        let data: Data
        do {
            switch format {
            case .protobuf:
                return try message.serializedBytes()
            case .json:
                var options = JSONEncodingOptions()
                options.preserveProtoFieldNames = true
                options.alwaysPrintEnumsAsInts = false
                data = try message.jsonUTF8Data(options: options)
            }
        } catch {
            throw .numerical("cannot encode \(M.protoMessageName) as \(format.rawValue): \(error)")
        }
        // Pretty printing only re-indents valid JSON; the compact form is as good when it cannot.
        guard pretty, let object = try? JSONSerialization.jsonObject(with: data),
              let formatted = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) else { return data }
        return formatted
    }
}
