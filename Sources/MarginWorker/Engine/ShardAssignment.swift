import KafkaClient

/// A partition of the accounts topic handed to this instance, with what the service read for it
/// before the engine takes it over: the restore target and the co-partitioned liquidation state.
public struct ShardAssignment: Sendable {
    public var partition: TopicPartition
    /// The high watermark at assignment: the shard is restored once its position reaches it or the
    /// partition's end is reported (`Int64.max`: at the partition's end only).
    public var restoreTarget: Int64
    /// The partition's records of the liquidation-state topic, oldest first.
    public var liquidationState: [KafkaMessage]

    public init(partition: TopicPartition, restoreTarget: Int64, liquidationState: [KafkaMessage] = []) {
        self.partition = partition
        self.restoreTarget = restoreTarget
        self.liquidationState = liquidationState
    }

    /// Assignments without liquidation state, restoring each partition to `target(partition)`.
    public static func restoring(_ partitions: [TopicPartition], to target: (TopicPartition) -> Int64) -> [ShardAssignment] {
        partitions.map { ShardAssignment(partition: $0, restoreTarget: target($0)) }
    }
}
