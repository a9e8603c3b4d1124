import KafkaClient

/// Creates the worker's topics on an embedded cluster (`dev-broker`, the demo, tests).
///
/// The accounts topic and its co-partitioned outputs (results, liquidations, liquidation state)
/// get `partitions` partitions; the reference topics and the calibrator's risk-factor topic one each
/// (every instance reads them whole).
public enum WorkerTopology {
    public static func create(on cluster: EmbeddedKafkaCluster, topics: TopicNames = TopicNames(), partitions: Int32) throws {
        let replication = Int32(min(3, cluster.brokerCount))
        for topic in [topics.accounts, topics.results, topics.liquidations, topics.liquidationState] {
            try cluster.createTopic(topic, partitions: partitions, replicationFactor: replication)
        }
        for topic in topics.reference + [topics.deadLetter, CalibrationSettings().riskFactorsTopic] {
            try cluster.createTopic(topic, partitions: 1, replicationFactor: replication)
        }
    }
}
