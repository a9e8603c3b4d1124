import CRdKafka

/// Cluster metadata queries (blocking; called on a handle's blocking queue).
enum KafkaMetadata {
    static func partitions(rk: OpaquePointer, topic: String, timeoutMs: Int) -> Result<[Int32], KafkaError> {
        guard let topicHandle = rd_kafka_topic_new(rk, topic, nil) else {
            return .failure(.configuration("cannot create a handle for topic \(topic)"))
        }
        defer { rd_kafka_topic_destroy(topicHandle) }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let error = rd_kafka_metadata(rk, 0, topicHandle, &metadata, Int32(timeoutMs))
        defer { if let metadata { rd_kafka_metadata_destroy(metadata) } }
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata, metadata.pointee.topic_cnt > 0 else {
            return .failure(KafkaError(code: error, context: "metadata \(topic)"))
        }
        let entry = metadata.pointee.topics[0]
        if entry.err != RD_KAFKA_RESP_ERR_NO_ERROR { return .failure(KafkaError(code: entry.err, context: "metadata \(topic)")) }
        return .success((0..<Int(entry.partition_cnt)).map { entry.partitions[$0].id }.sorted())
    }
}
