/// Outputs of one processing batch, published atomically with the consumed positions.
public struct OutputBatch: Sendable {
    /// What to publish, in order.
    public internal(set) var outputs: [EngineOutput] = []
    /// Next offset to commit per accounts partition.
    public internal(set) var positions: [Int32: Int64] = [:]
    /// Per accounts partition, a position before which every record has its result once this
    /// batch commits (a position of a shard that has finished restoring, see
    /// ``AccountShard/hasServed``): recorded for the partition's next owner, absent while it
    /// restores, and written at most once per `consumed_position_interval_ms` except at a
    /// revocation or shutdown (``MarginEngine/recordAnsweredPositions()``).
    public internal(set) var answeredPositions: [Int32: Int64] = [:]
    /// Results in this batch, applied to the accounts' publication state once committed.
    var pendingResults: [AccountKey: PublishedResult] = [:]
    /// Liquidation state changes applied once committed.
    var liquidationCommits: [LiquidationCommit] = []

    public init() {}

    public var isEmpty: Bool { outputs.isEmpty && positions.isEmpty && answeredPositions.isEmpty }

    /// Takes back a batch whose transaction failed: its outputs (same ids) go out again first.
    mutating func merge(failed: OutputBatch) {
        outputs = failed.outputs + outputs
        for (partition, offset) in failed.positions where positions[partition].map({ $0 < offset }) ?? true { positions[partition] = offset }
        for (partition, offset) in failed.answeredPositions where answeredPositions[partition].map({ $0 < offset }) ?? true {
            answeredPositions[partition] = offset
        }
        for (key, result) in failed.pendingResults where pendingResults[key] == nil { pendingResults[key] = result }
        liquidationCommits = failed.liquidationCommits + liquidationCommits
    }
}
