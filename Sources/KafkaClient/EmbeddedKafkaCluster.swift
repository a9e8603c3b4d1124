import CRdKafka
import Logging

/// An in-process Kafka cluster (librdkafka's mock cluster) that speaks the real Kafka protocol on
/// loopback: for tests, the demo and `margin-engine dev-broker`. With fault injection.
///
/// Known gaps of librdkafka 2.0.2's mock: `read_committed` does not hide aborted records,
/// transactional offsets are not stored, producers are not fenced by the broker, a group's first
/// join waits about 3 s (use a low `session.timeout.ms`), and an empty fetch waits
/// `fetch.wait.max.ms`.
public final class EmbeddedKafkaCluster: @unchecked Sendable {
    /// Kafka API keys for error injection.
    public enum API: Int16, Sendable, CaseIterable {
        case produce = 0, fetch = 1, listOffsets = 2, metadata = 3, offsetCommit = 8, offsetFetch = 9
        case findCoordinator = 10, joinGroup = 11, heartbeat = 12, leaveGroup = 13, syncGroup = 14
        case initProducerId = 22, addPartitionsToTxn = 24, addOffsetsToTxn = 25, endTxn = 26, txnOffsetCommit = 28
    }

    /// Kafka protocol error codes commonly injected.
    public enum ProtocolError: Int32, Sendable, CaseIterable {
        case notLeaderForPartition = 6, requestTimedOut = 7, coordinatorNotAvailable = 15, notCoordinator = 16
        case notEnoughReplicas = 19, invalidProducerEpoch = 47, concurrentTransactions = 51, producerFenced = 90
        case invalidTxnState = 48, unknownMemberId = 25, rebalanceInProgress = 27
        case topicAuthorizationFailed = 29, groupAuthorizationFailed = 30
    }

    /// `host:port,…` of the cluster's brokers.
    public let bootstrapServers: String
    public let brokerCount: Int
    /// Broker ids are 1…brokerCount.
    public var brokerIDs: [Int32] { (1...Int32(brokerCount)).map { $0 } }

    private let host: OpaquePointer   // rd_kafka_t owning the cluster
    private let cluster: OpaquePointer // rd_kafka_mock_cluster_t
    private let context: KafkaCallbackContext

    public init(brokers: Int = 1, logger: Logger = Logger(label: "kafka.embedded")) throws(KafkaError) {
        precondition(brokers >= 1)
        context = KafkaCallbackContext(logger: logger, name: "embedded-kafka", events: nil)
        guard let conf = rd_kafka_conf_new() else { throw .configuration("rd_kafka_conf_new failed") }
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
        var errorText = [CChar](repeating: 0, count: 512)
        _ = rd_kafka_conf_set(conf, "log_level", "3", &errorText, errorText.count)
        guard let host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw .configuration(String(nulTerminated: errorText))
        }
        guard let cluster = rd_kafka_mock_cluster_new(host, Int32(brokers)) else {
            rd_kafka_destroy(host)
            throw .configuration("cannot start the mock cluster")
        }
        self.host = host
        self.cluster = cluster
        self.brokerCount = brokers
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        logger.info("embedded Kafka cluster started", metadata: ["brokers": "\(brokers)", "bootstrap": "\(bootstrapServers)"])
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(host)
    }

    /// Creates a topic (idempotent for an existing topic with the same layout).
    public func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32 = 1) throws(KafkaError) {
        let error = rd_kafka_mock_topic_create(cluster, name, partitions, min(replicationFactor, Int32(brokerCount)))
        if error != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(code: error, context: "create topic \(name)") }
    }

    /// Takes a broker down (connections closed, requests refused) or brings it back.
    public func setBroker(_ id: Int32, up: Bool) throws(KafkaError) {
        let error = up ? rd_kafka_mock_broker_set_up(cluster, id) : rd_kafka_mock_broker_set_down(cluster, id)
        if error != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(code: error, context: "broker \(id)") }
    }

    /// Adds a round-trip delay to every request of a broker.
    public func setRoundTripTime(broker id: Int32, milliseconds: Int32) throws(KafkaError) {
        let error = rd_kafka_mock_broker_set_rtt(cluster, id, milliseconds)
        if error != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(code: error, context: "broker \(id) rtt") }
    }

    /// Makes the next requests of `api` (to any broker) fail with `errors`, in order.
    public func injectErrors(_ api: API, _ errors: [ProtocolError]) {
        var codes = errors.map { rd_kafka_resp_err_t(rawValue: $0.rawValue) }
        rd_kafka_mock_push_request_errors_array(cluster, api.rawValue, codes.count, &codes)
    }

    /// Makes the next requests of `api` to one broker fail with `errors`, each after `delayMs`.
    public func injectErrors(_ api: API, broker id: Int32, _ errors: [ProtocolError], delayMs: Int32 = 0) throws(KafkaError) {
        for error in errors {
            let result = crdkafka_mock_broker_push_error_rtt(cluster, id, api.rawValue, rd_kafka_resp_err_t(rawValue: error.rawValue), delayMs)
            if result != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(code: result, context: "inject \(api)") }
        }
    }

    /// Clears the injected errors of `api`.
    public func clearErrors(_ api: API) {
        rd_kafka_mock_clear_request_errors(cluster, api.rawValue)
    }

    /// Moves a partition's leadership.
    public func setLeader(topic: String, partition: Int32, broker id: Int32) throws(KafkaError) {
        let error = rd_kafka_mock_partition_set_leader(cluster, topic, partition, id)
        if error != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(code: error, context: "leader \(topic)[\(partition)]") }
    }

    /// Moves the group (`"group"`) or transaction (`"transaction"`) coordinator of `key`.
    public func setCoordinator(type: String, key: String, broker id: Int32) throws(KafkaError) {
        let error = rd_kafka_mock_coordinator_set(cluster, type, key, id)
        if error != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(code: error, context: "coordinator \(type) \(key)") }
    }
}
