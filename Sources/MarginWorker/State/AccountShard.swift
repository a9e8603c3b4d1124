import MarginCore

/// What the engine keeps per account.
struct AccountEntry: Sendable {
    var account: Account
    /// The account compiled against the current catalog and books (nil until it can be).
    var exposure: AccountExposure?
    /// Why the account cannot be margined right now (missing market or parameters).
    var blockedReason: String?
    /// The error that keeps the account from being margined (compiling or the re-margin pass);
    /// nil once it margins. Published as a result with health `error` and counted in
    /// `margin_account_errors_total{reason}`.
    var error: MarginError?
    var summary: MarginSummary?
    /// Health after the stale guard (``HealthState/stale`` when a market it needs is stale).
    var effectiveHealth: HealthState?
    /// What was last published (committed) for this account.
    var published: PublishedResult?
}

/// The last committed result of an account: the publication rule compares against it.
struct PublishedResult: Sendable, Hashable {
    var resultID: String
    /// The account version the result carries: a new version is always published.
    var accountVersion: UInt64
    var health: HealthState
    var maintenance: Double
    var initial: Double
}

/// One assigned partition of the accounts topic and the accounts it holds.
struct AccountShard: Sendable {
    let partition: Int32
    var accounts: [String: AccountEntry] = [:]
    /// The high watermark seen at assignment: the shard is restored once it has read up to it.
    var restoreTarget: Int64
    var restored: Bool
    /// Offset of the next record to read (consumed position); a partition-end event moves it to
    /// the partition's end, past transaction markers that no record carries.
    var nextOffset: Int64 = 0
    /// When the partition was assigned, and whether its restore timeout has been reported.
    let assignedAtMs: Int64
    var restoreTimeoutReported = false

    /// A shard starts unrestored; the engine marks it restored once its position reaches the
    /// target or the partition's end (at once for an empty partition).
    init(partition: Int32, restoreTarget: Int64, assignedAtMs: Int64) {
        self.partition = partition
        self.restoreTarget = restoreTarget
        self.restored = false
        self.assignedAtMs = assignedAtMs
    }

    var isCaughtUp: Bool { nextOffset >= restoreTarget }
}

/// An account's address: its shard and id.
struct AccountKey: Hashable, Sendable {
    var partition: Int32
    var id: String
}
