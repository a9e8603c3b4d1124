import Foundation

/// A topic and partition.
public struct TopicPartition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }

    public var description: String { "\(topic)[\(partition)]" }
}

/// A position in a partition. Special positions: ``beginning``, ``end``, ``stored``.
public struct KafkaOffset: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var value: Int64

    public init(_ value: Int64) {
        self.value = value
    }

    /// The first available message (librdkafka's `RD_KAFKA_OFFSET_BEGINNING`).
    public static let beginning = KafkaOffset(-2)
    /// The next message to be produced (`RD_KAFKA_OFFSET_END`).
    public static let end = KafkaOffset(-1)
    /// The group's committed offset (`RD_KAFKA_OFFSET_STORED`).
    public static let stored = KafkaOffset(-1000)
    /// No offset (`RD_KAFKA_OFFSET_INVALID`).
    public static let invalid = KafkaOffset(-1001)

    public static func < (lhs: KafkaOffset, rhs: KafkaOffset) -> Bool { lhs.value < rhs.value }

    public var description: String {
        switch self {
        case .beginning: return "beginning"
        case .end: return "end"
        case .stored: return "stored"
        case .invalid: return "invalid"
        default: return String(value)
        }
    }
}

/// A record header. A nil value is a header without value.
public struct KafkaHeader: Sendable, Hashable {
    public var name: String
    public var value: Data?

    public init(name: String, value: Data?) {
        self.name = name
        self.value = value
    }

    public init(name: String, string: String) {
        self.init(name: name, value: Data(string.utf8))
    }
}

/// A consumed record. A nil `value` is a tombstone (a deletion in a compacted topic).
public struct KafkaMessage: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: Data?
    public var value: Data?
    public var headers: [KafkaHeader]
    /// Record timestamp, Unix ms (nil when the broker gave none).
    public var timestampMs: Int64?

    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }

    public init(topic: String, partition: Int32, offset: Int64, key: Data?, value: Data?, headers: [KafkaHeader] = [], timestampMs: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMs = timestampMs
    }

    /// The first header named `name`, as UTF-8 text.
    public func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value.map { String(decoding: $0, as: UTF8.self) }
    }
}

/// A record to produce. `partition` nil uses the configured partitioner (murmur2 on the key, as
/// the Java client does).
public struct ProducerRecord: Sendable, Hashable {
    public var topic: String
    public var partition: Int32?
    public var key: Data?
    public var value: Data?
    public var headers: [KafkaHeader]
    public var timestampMs: Int64?

    public init(topic: String, partition: Int32? = nil, key: Data? = nil, value: Data?, headers: [KafkaHeader] = [], timestampMs: Int64? = nil) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMs = timestampMs
    }

    public init(topic: String, partition: Int32? = nil, key: String, value: Data?, headers: [KafkaHeader] = []) {
        self.init(topic: topic, partition: partition, key: Data(key.utf8), value: value, headers: headers)
    }
}

/// Where a produced record landed.
public struct DeliveryReport: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
}
