/// Configuration shared by consumers and producers: typed common settings plus any librdkafka
/// property by name (SASL/SSL, compression, timeouts…), applied last so it can override.
///
/// Invalid settings fail at client creation with librdkafka's own message.
public struct KafkaConfiguration: Sendable, Hashable {
    /// Comma-separated `host:port` list.
    public var bootstrapServers: String
    public var clientID: String
    /// How often librdkafka emits statistics (consumer lag and more) to metrics; nil disables them.
    public var statisticsIntervalMs: Int?
    /// Any librdkafka property (`security.protocol`, `sasl.username`, `compression.type`, …).
    public var properties: [String: String]

    public init(bootstrapServers: String, clientID: String = "margin-engine", statisticsIntervalMs: Int? = nil,
                properties: [String: String] = [:]) {
        self.bootstrapServers = bootstrapServers
        self.clientID = clientID
        self.statisticsIntervalMs = statisticsIntervalMs
        self.properties = properties
    }

    /// The effective librdkafka properties.
    func librdkafkaProperties() -> [(String, String)] {
        var values: [String: String] = ["bootstrap.servers": bootstrapServers, "client.id": clientID]
        if let statisticsIntervalMs { values["statistics.interval.ms"] = String(statisticsIntervalMs) }
        for (key, value) in properties { values[key] = value }
        return values.sorted { $0.key < $1.key }
    }

    /// Property names whose values are secrets (never logged).
    public static func isSecret(_ property: String) -> Bool {
        let lower = property.lowercased()
        return ["password", "secret", "sasl.oauthbearer.config", "ssl.key.pem", "ssl_key", "ssl.keystore", "token"]
            .contains { lower.contains($0) }
    }

    /// The properties with secret values replaced by `[redacted]`, for logging.
    public static func redacted(_ properties: [(String, String)]) -> [(String, String)] {
        properties.map { ($0.0, isSecret($0.0) ? "[redacted]" : $0.1) }
    }
}

/// Consumer settings on top of ``KafkaConfiguration``.
public struct KafkaConsumerConfiguration: Sendable, Hashable {
    public enum OffsetReset: String, Sendable, Hashable {
        case earliest, latest, error
    }

    public var common: KafkaConfiguration
    /// Consumer group; required for ``KafkaConsumer/subscribe(topics:)`` and meaningful commits.
    /// Without one, a private group id is used for manual assignment only.
    public var groupID: String?
    public var autoOffsetReset: OffsetReset
    /// Offsets are committed explicitly by default (the worker commits with its outputs).
    public var enableAutoCommit: Bool
    /// Offsets are stored explicitly by default (``KafkaConsumer/storeOffset(after:)``).
    public var enableAutoOffsetStore: Bool
    /// `read_committed` hides aborted transactional records (a real broker does).
    public var readCommitted: Bool
    public var sessionTimeoutMs: Int
    public var heartbeatIntervalMs: Int
    /// Longest time between polls before the member is considered failed; also the rebalance
    /// timeout a broker may wait for members to rejoin.
    public var maxPollIntervalMs: Int
    /// Longest wait of an empty fetch.
    public var fetchWaitMaxMs: Int
    /// Where newly assigned partitions start: nil = the committed offset (else `autoOffsetReset`);
    /// ``KafkaOffset/beginning`` makes every assignment re-read its partitions from the start
    /// (the worker restores its in-memory shards that way).
    public var assignmentStartOffset: KafkaOffset?
    /// Events buffered between the polling thread and the consumer of ``KafkaConsumer/events``;
    /// when full the polling thread gives the application up to 100 ms to drain it, then pauses
    /// the assignment (back-pressure) instead of growing memory.
    public var bufferCapacity: Int
    /// Deliver ``KafkaConsumerEvent/partitionEnd(_:nextOffset:)`` when a partition's end is reached
    /// (`enable.partition.eof`): how a reader knows it has caught up on a topic written
    /// transactionally, whose high watermark lies past a commit marker no record carries.
    public var partitionEndEvents: Bool

    public init(common: KafkaConfiguration, groupID: String? = nil, autoOffsetReset: OffsetReset = .earliest,
                enableAutoCommit: Bool = false, enableAutoOffsetStore: Bool = false, readCommitted: Bool = true,
                sessionTimeoutMs: Int = 10_000, heartbeatIntervalMs: Int = 1_000, maxPollIntervalMs: Int = 300_000, fetchWaitMaxMs: Int = 100,
                bufferCapacity: Int = 1_000, assignmentStartOffset: KafkaOffset? = nil, partitionEndEvents: Bool = false) {
        self.common = common
        self.groupID = groupID
        self.autoOffsetReset = autoOffsetReset
        self.enableAutoCommit = enableAutoCommit
        self.enableAutoOffsetStore = enableAutoOffsetStore
        self.readCommitted = readCommitted
        self.sessionTimeoutMs = sessionTimeoutMs
        self.heartbeatIntervalMs = heartbeatIntervalMs
        self.maxPollIntervalMs = maxPollIntervalMs
        self.fetchWaitMaxMs = fetchWaitMaxMs
        self.bufferCapacity = bufferCapacity
        self.assignmentStartOffset = assignmentStartOffset
        self.partitionEndEvents = partitionEndEvents
    }

    func librdkafkaProperties() -> [(String, String)] {
        var values: [String: String] = [
            "auto.offset.reset": autoOffsetReset.rawValue,
            "enable.auto.commit": String(enableAutoCommit),
            "enable.auto.offset.store": String(enableAutoOffsetStore),
            "isolation.level": readCommitted ? "read_committed" : "read_uncommitted",
            "session.timeout.ms": String(sessionTimeoutMs),
            "heartbeat.interval.ms": String(heartbeatIntervalMs),
            "max.poll.interval.ms": String(maxPollIntervalMs),
            "fetch.wait.max.ms": String(fetchWaitMaxMs),
            "partition.assignment.strategy": "cooperative-sticky",
            "enable.partition.eof": String(partitionEndEvents),
        ]
        // librdkafka wants a group id even for manual assignment; a private one is never joined.
        values["group.id"] = groupID ?? "\(common.clientID)-unmanaged"
        for (key, value) in common.librdkafkaProperties() { values[key] = value }
        return values.sorted { $0.key < $1.key }
    }
}

/// Producer settings on top of ``KafkaConfiguration``.
public struct KafkaProducerConfiguration: Sendable, Hashable {
    public var common: KafkaConfiguration
    /// Set to use transactions (implies idempotence).
    public var transactionalID: String?
    public var idempotent: Bool
    public var lingerMs: Int
    /// Kafka-wide timeout for a transaction (ms).
    public var transactionTimeoutMs: Int

    public init(common: KafkaConfiguration, transactionalID: String? = nil, idempotent: Bool = true, lingerMs: Int = 5,
                transactionTimeoutMs: Int = 60_000) {
        self.common = common
        self.transactionalID = transactionalID
        self.idempotent = idempotent
        self.lingerMs = lingerMs
        self.transactionTimeoutMs = transactionTimeoutMs
    }

    func librdkafkaProperties() -> [(String, String)] {
        var values: [String: String] = [
            // murmur2 for keyed records, as the Java client places them; random for null keys.
            "partitioner": "murmur2_random",
            "enable.idempotence": String(idempotent || transactionalID != nil),
            "linger.ms": String(lingerMs),
            "acks": "all",
        ]
        if let transactionalID {
            values["transactional.id"] = transactionalID
            values["transaction.timeout.ms"] = String(transactionTimeoutMs)
        }
        for (key, value) in common.librdkafkaProperties() { values[key] = value }
        return values.sorted { $0.key < $1.key }
    }
}
