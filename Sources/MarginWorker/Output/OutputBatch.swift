import KafkaClient

/// Outputs of one processing batch, published atomically with the consumed offsets.
struct OutputBatch: Sendable {
    var records: [ProducerRecord] = []
    var offsets: [TopicPartition: KafkaOffset] = [:]
    /// Results in this batch, applied to the accounts' publication state once committed.
    var pendingResults: [AccountKey: PublishedResult] = [:]
    /// Liquidation state changes applied once committed.
    var liquidationCommits: [LiquidationCommit] = []

    var isEmpty: Bool { records.isEmpty && offsets.isEmpty }

    /// Takes back a batch whose transaction failed: its outputs (same ids) go out again first.
    mutating func merge(failed: OutputBatch) {
        records = failed.records + records
        for (partition, offset) in failed.offsets where offsets[partition].map({ $0 < offset }) ?? true { offsets[partition] = offset }
        for (key, result) in failed.pendingResults where pendingResults[key] == nil { pendingResults[key] = result }
        liquidationCommits = failed.liquidationCommits + liquidationCommits
    }
}
