/// An instruction published and not yet resolved, kept in the compacted liquidation-state topic
/// (key: account id; same partition as the account) so that it survives restarts and rebalances.
///
/// A cancelled instruction stays in the topic (`cancelled: true`) instead of a tombstone: the next
/// plan for the same account version takes the next round, so an instruction id (account, version,
/// round) names one plan content forever, across cancels, restarts and partition moves.
public struct OutstandingInstruction: Codable, Sendable, Hashable {
    public var id: String
    public var accountID: String
    public var accountVersion: UInt64
    public var round: UInt32
    public var deadlineMs: Int64
    public var partition: Int32
    /// True once cancelled (the account recovered): kept only for its round.
    public var cancelled: Bool?

    public var isLive: Bool { cancelled != true }

    public init(id: String, accountID: String, accountVersion: UInt64, round: UInt32, deadlineMs: Int64, partition: Int32,
                cancelled: Bool? = nil) {
        self.id = id
        self.accountID = accountID
        self.accountVersion = accountVersion
        self.round = round
        self.deadlineMs = deadlineMs
        self.partition = partition
        self.cancelled = cancelled
    }
}

/// A liquidation state change, applied once its batch is committed.
package struct LiquidationCommit: Sendable {
    var accountID: String
    var state: OutstandingInstruction?
    var isInstruction: Bool
}
