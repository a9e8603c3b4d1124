import CRdKafka

/// Conversions between Swift values and `rd_kafka_topic_partition_list_t` (internal only).
enum TopicPartitionList {
    /// A new list the caller must destroy with `rd_kafka_topic_partition_list_destroy`.
    static func make(_ entries: [(TopicPartition, KafkaOffset?)]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(max(entries.count, 1)))!
        for (partition, offset) in entries {
            let element = rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition)!
            if let offset { element.pointee.offset = offset.value }
        }
        return list
    }

    /// Runs `body` with a temporary list.
    static func with<T>(_ entries: [(TopicPartition, KafkaOffset?)], _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> T) -> T {
        let list = make(entries)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return body(list)
    }

    /// The entries of a list, with their offsets and per-partition errors.
    static func read(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>?) -> [(partition: TopicPartition, offset: KafkaOffset, error: KafkaError?)] {
        guard let list, let elements = list.pointee.elems else { return [] }
        return (0..<Int(list.pointee.cnt)).map { index in
            let element = elements[index]
            let error = element.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(code: element.err, context: "\(String(cString: element.topic)) [\(element.partition)]")
            return (TopicPartition(topic: String(cString: element.topic), partition: element.partition), KafkaOffset(element.offset), error)
        }
    }

    /// Throws the first per-partition error of a list, if any.
    static func firstError(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> KafkaError? {
        read(list).lazy.compactMap(\.error).first
    }
}
