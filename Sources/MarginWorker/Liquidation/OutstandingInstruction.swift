
/// An instruction published and not yet resolved, kept in the compacted liquidation-state topic
/// (key: account id; same partition as the account) so that it survives restarts and rebalances.
///
/// A cancelled instruction stays in the topic (`cancelled: true`) instead of a tombstone: the next
/// plan for the same account version takes the next round, so an instruction id (account, version,
/// round) names one plan content forever, across cancels, restarts and partition moves.
struct OutstandingInstruction: Codable, Sendable, Hashable {
    var id: String
    var accountID: String
    var accountVersion: UInt64
    var round: UInt32
    var deadlineMs: Int64
    var partition: Int32
    /// True once cancelled (the account recovered): kept only for its round.
    var cancelled: Bool?

    var isLive: Bool { cancelled != true }
}

/// A liquidation state change, applied once its batch is committed.
struct LiquidationCommit: Sendable {
    var accountID: String
    var state: OutstandingInstruction?
    var isInstruction: Bool
}
