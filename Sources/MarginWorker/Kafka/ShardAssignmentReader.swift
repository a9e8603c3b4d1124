import KafkaClient
import Logging
import MarginEngineCore

/// Reads what newly assigned accounts partitions restore from before the engine takes them over:
/// each partition's restore target (its high watermark now) and its liquidation-state partition
/// (the accounts' outstanding instructions and the consumed position). Partitions are read
/// ``concurrency`` at a time: a rebalance that hands over many partitions restores in the time of a
/// few reads, not of one read per partition in turn (48 partitions read one by one delayed a
/// restart's catch-up by tens of seconds).
struct ShardAssignmentReader: Sendable {
    let configuration: WorkerConfiguration
    let logger: Logger
    /// State partitions read at once (each with its own short-lived consumer: a few sockets and a thread).
    static let concurrency = 8

    /// The assignments of `partitions`, in their order; `watermark` reads a partition's high
    /// watermark on the accounts consumer.
    func read(_ partitions: [TopicPartition], watermark: @escaping @Sendable (TopicPartition) async throws(KafkaError) -> Int64)
        async -> [ShardAssignment] {
        await withTaskGroup(of: (Int, ShardAssignment).self) { group in
            var assignments = [ShardAssignment?](repeating: nil, count: partitions.count)
            var next = 0
            func start() {
                guard next < partitions.count else { return }
                let index = next
                next += 1
                group.addTask { (index, await read(partitions[index], watermark: watermark)) }
            }
            for _ in 0..<Self.concurrency { start() }
            for await (index, assignment) in group {
                assignments[index] = assignment
                start()
            }
            return assignments.compactMap { $0 }
        }
    }

    private func read(_ partition: TopicPartition, watermark: @Sendable (TopicPartition) async throws(KafkaError) -> Int64) async
        -> ShardAssignment {
        let target: Int64
        do {
            target = try await watermark(partition)
        } catch {
            logger.warning("cannot read the watermarks of \(partition): \(error); restoring to the partition's end")
            target = .max
        }
        let records = await PartitionReader.readRetrying(configuration: configuration, topic: configuration.topics.liquidationState,
                                                         partition: partition.partition, kind: "liquidation_state", logger: logger)
        let state = InputDecoder.liquidationStates(records)
        return ShardAssignment(partition: partition.partition, restoreTarget: target, liquidationStates: state.states,
                               unreadable: state.problems, answeredBefore: state.answeredBefore)
    }
}
