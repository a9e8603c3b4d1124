/// A partition of the accounts topic handed to this instance, with what the service read for it
/// before the engine takes it over: the restore target and the co-partitioned liquidation state.
public struct ShardAssignment: Sendable {
    public var partition: Int32
    /// The high watermark at assignment: the shard is restored once its position reaches it or the
    /// partition's end is reported (`Int64.max`: at the partition's end only).
    public var restoreTarget: Int64
    /// The partition's liquidation states, oldest first (nil: a tombstone, the account has none).
    public var liquidationStates: [(accountID: String, state: OutstandingInstruction?)]
    /// Liquidation-state records that could not be read (logged; their state is kept as it was).
    public var unreadable: [String]
    /// The first offset of the partition that no previous owner answered: the position the last
    /// committed batch recorded (every record before it has its result on the results topic). A
    /// version read at or past it during the restore is answered by this instance, superseded or
    /// not. Nil when unknown (no batch committed yet): only each account's latest version is.
    public var answeredBefore: Int64?

    public init(partition: Int32, restoreTarget: Int64, liquidationStates: [(accountID: String, state: OutstandingInstruction?)] = [],
                unreadable: [String] = [], answeredBefore: Int64? = nil) {
        self.partition = partition
        self.restoreTarget = restoreTarget
        self.liquidationStates = liquidationStates
        self.unreadable = unreadable
        self.answeredBefore = answeredBefore
    }

    /// Assignments without liquidation state, restoring each partition to `target(partition)`.
    public static func restoring(_ partitions: [Int32], to target: (Int32) -> Int64) -> [ShardAssignment] {
        partitions.map { ShardAssignment(partition: $0, restoreTarget: target($0)) }
    }
}
