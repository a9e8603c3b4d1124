import CRdKafka
import Foundation

/// Positions, commits, watermarks and metadata.
extension KafkaConsumer {
    /// Moves the fetch position of assigned partitions.
    public func seek(_ positions: [TopicPartition: KafkaOffset], timeoutMs: Int = 10_000) async throws(KafkaError) {
        let entries = positions.sorted { $0.key < $1.key }.map { ($0.key, Optional($0.value)) }
        try await handle.blocking { (rk) -> Result<Void, KafkaError> in
            TopicPartitionList.with(entries) { list in
                if let error = rd_kafka_seek_partitions(rk, list, Int32(timeoutMs)) { return .failure(KafkaError(consuming: error)) }
                if let error = TopicPartitionList.firstError(list) { return .failure(error) }
                return .success(())
            }
        }
    }

    /// Marks `message` processed: its offset + 1 will be committed by the next commit.
    public func storeOffset(after message: KafkaMessage) throws(KafkaError) {
        try storeOffsets([message.topicPartition: KafkaOffset(message.offset + 1)])
    }

    /// Stores the next offsets to commit per partition.
    public func storeOffsets(_ offsets: [TopicPartition: KafkaOffset]) throws(KafkaError) {
        try checkOpen()
        let entries = offsets.sorted { $0.key < $1.key }.map { ($0.key, Optional($0.value)) }
        let result: KafkaError? = TopicPartitionList.with(entries) { list in
            let error = rd_kafka_offsets_store(handle.pointer, list)
            if error != RD_KAFKA_RESP_ERR_NO_ERROR { return KafkaError(code: error, context: "offsets_store") }
            return TopicPartitionList.firstError(list)
        }
        if let result { throw result }
    }

    /// Commits the stored offsets (or `offsets` when given) and waits for the broker.
    public func commit(_ offsets: [TopicPartition: KafkaOffset]? = nil) async throws(KafkaError) {
        try checkOpen()
        let entries = offsets.map { $0.sorted { $0.key < $1.key }.map { ($0.key, Optional($0.value)) } }
        try await handle.blocking { (rk) -> Result<Void, KafkaError> in
            let error: rd_kafka_resp_err_t
            if let entries {
                error = TopicPartitionList.with(entries) { rd_kafka_commit(rk, $0, 0) }
            } else {
                error = rd_kafka_commit(rk, nil, 0)
            }
            // Nothing stored since the last commit is not a failure.
            if error == RD_KAFKA_RESP_ERR_NO_ERROR || error == RD_KAFKA_RESP_ERR__NO_OFFSET { return .success(()) }
            return .failure(KafkaError(code: error, context: "commit"))
        }
    }

    /// Starts a commit of the stored offsets without waiting; failures are logged.
    public func commitAsync() throws(KafkaError) {
        try checkOpen()
        let error = rd_kafka_commit(handle.pointer, nil, 1)
        if error != RD_KAFKA_RESP_ERR_NO_ERROR && error != RD_KAFKA_RESP_ERR__NO_OFFSET {
            throw KafkaError(code: error, context: "commit")
        }
    }

    /// The group's committed offsets (``KafkaOffset/invalid`` when none).
    public func committedOffsets(for partitions: [TopicPartition], timeoutMs: Int = 10_000) async throws(KafkaError) -> [TopicPartition: KafkaOffset] {
        try await handle.blocking { (rk) -> Result<[TopicPartition: KafkaOffset], KafkaError> in
            TopicPartitionList.with(partitions.map { ($0, nil) }) { list in
                let error = rd_kafka_committed(rk, list, Int32(timeoutMs))
                if error != RD_KAFKA_RESP_ERR_NO_ERROR { return .failure(KafkaError(code: error, context: "committed")) }
                var result: [TopicPartition: KafkaOffset] = [:]
                for entry in TopicPartitionList.read(list) {
                    if let error = entry.error { return .failure(error) }
                    result[entry.partition] = entry.offset
                }
                return .success(result)
            }
        }
    }

    /// Low and high watermarks from the partition leader (high = offset of the next record).
    public func watermarks(for partition: TopicPartition, timeoutMs: Int = 10_000) async throws(KafkaError) -> (low: Int64, high: Int64) {
        try await handle.blocking { (rk) -> Result<(low: Int64, high: Int64), KafkaError> in
            var low: Int64 = 0, high: Int64 = 0
            let error = rd_kafka_query_watermark_offsets(rk, partition.topic, partition.partition, &low, &high, Int32(timeoutMs))
            if error != RD_KAFKA_RESP_ERR_NO_ERROR { return .failure(KafkaError(code: error, context: "watermarks \(partition)")) }
            return .success((low, high))
        }
    }

    /// Partition ids of `topic` from the cluster metadata.
    public func partitions(of topic: String, timeoutMs: Int = 10_000) async throws(KafkaError) -> [Int32] {
        try await handle.blocking { rk in KafkaMetadata.partitions(rk: rk, topic: topic, timeoutMs: timeoutMs) }
    }

    /// The consumer's group metadata, for ``KafkaProducer/sendOffsetsToTransaction(_:groupMetadata:timeoutMs:)``.
    public func groupMetadata() throws(KafkaError) -> KafkaConsumerGroupMetadata {
        guard let metadata = rd_kafka_consumer_group_metadata(handle.pointer) else {
            throw .configuration("no consumer group metadata (no group id?)")
        }
        return KafkaConsumerGroupMetadata(pointer: metadata)
    }
}

/// A consumer's group identity for transactional offset commits (opaque).
public final class KafkaConsumerGroupMetadata: @unchecked Sendable {
    let pointer: OpaquePointer

    init(pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        rd_kafka_consumer_group_metadata_destroy(pointer)
    }
}
