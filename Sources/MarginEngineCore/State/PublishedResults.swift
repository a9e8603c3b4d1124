/// What was last published (committed) for each held account, by shard: the publication rule
/// compares a fresh margin against it.
///
/// The engine's own bookkeeping, kept apart from ``AccountShards``: the snapshot HTTP reads shares
/// the shards' tables copy-on-write, so recording a committed batch's results in the entries copied
/// every table the batch touched (a whole shard's accounts per tick); here a commit writes only
/// its results. The engine keeps it in step with the shards: a shard assigned or revoked releases
/// its partition, a removed account its entry, and a result whose account is no longer held is
/// not recorded.
struct PublishedResults: Sendable {
    private var byPartition: [Int32: [String: PublishedResult]] = [:]

    subscript(key: AccountKey) -> PublishedResult? {
        byPartition[key.partition]?[key.id]
    }

    /// Records the committed result of an account.
    mutating func record(_ result: PublishedResult, for key: AccountKey) {
        byPartition[key.partition, default: [:]][key.id] = result
    }

    mutating func remove(_ key: AccountKey) {
        byPartition[key.partition]?[key.id] = nil
    }

    /// Forgets a partition's results (its shard is assigned afresh or revoked).
    mutating func release(_ partition: Int32) {
        byPartition[partition] = nil
    }

    /// Accounts with a recorded result.
    var count: Int { byPartition.values.reduce(0) { $0 + $1.count } }
}
