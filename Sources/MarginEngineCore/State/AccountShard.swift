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
    /// The markets the account is indexed under (``AccountShards``), as they were when indexed.
    var indexedMarkets: [String] = []

    init(account: Account) { self.account = account }
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
    let restoreTarget: Int64
    private(set) var phase = Phase.restoring(timeoutReported: false)
    /// Offset of the next record to read (consumed position); a partition-end event moves it to
    /// the partition's end, past transaction markers that no record carries.
    private(set) var nextOffset: Int64 = 0
    /// When the partition was assigned.
    let assignedAtMs: Int64
    /// See ``ShardAssignment/answeredBefore``.
    let answeredBefore: Int64?
    /// Accounts read during the restore at or past ``answeredBefore`` (their held version is unanswered).
    private var unanswered: Set<String> = []
    /// Unanswered versions a later record replaced during the restore, oldest first: answered when
    /// the restore completes, before the accounts' current versions.
    private(set) var superseded: [String: [Account]] = [:]
    /// Whether the restore has completed (the shard has served, even if it is revoking now): from
    /// then on every record it processes is answered in the batch that carries its position, and
    /// completing the restore answers what it read. While it restores, the versions it has read are
    /// not answered yet, so it records no answered position (``OutputBatch/answeredPositions``).
    private(set) var hasServed = false
    /// The position of the last batch taken with this shard's records once it had served: every
    /// record before it is answered once that batch commits.
    private(set) var answeredPosition: Int64?
    /// The answered position last handed out to be recorded (``OutputBatch/answeredPositions``), and when.
    private(set) var recordedPosition: (offset: Int64, atMs: Int64)?

    /// restoring → serving → revoking. Only a serving shard publishes results or is liquidated.
    enum Phase: Equatable {
        /// Reading up to ``restoreTarget``; whether the restore timeout has been reported.
        case restoring(timeoutReported: Bool)
        case serving
        /// About to be revoked: produces nothing more (its last outputs are being flushed).
        case revoking
    }

    init(partition: Int32, restoreTarget: Int64, assignedAtMs: Int64, answeredBefore: Int64? = nil) {
        self.partition = partition
        self.restoreTarget = restoreTarget
        self.assignedAtMs = assignedAtMs
        self.answeredBefore = answeredBefore
    }

    /// Whether a record at `offset`, read now, is one no previous owner answered and the restore
    /// must answer version by version.
    func isUnansweredRestore(offset: Int64) -> Bool {
        guard case .restoring = phase, let answeredBefore else { return false }
        return offset >= answeredBefore
    }

    /// Records a version stored during the restore that no previous owner answered; the held version
    /// it replaced is kept for an answer of its own when it was unanswered too.
    mutating func recordUnanswered(_ id: String, replacing previous: Account?) {
        if let previous, unanswered.contains(id) { superseded[id, default: []].append(previous) }
        unanswered.insert(id)
    }

    /// The superseded unanswered versions, handed out once (when the restore completes).
    mutating func takeSuperseded() -> [String: [Account]] {
        defer {
            superseded = [:]
            unanswered = []
        }
        return superseded
    }

    var isServing: Bool { phase == .serving }

    /// Moves the consumed position (never backwards); true when this completes the restore (the
    /// shard starts serving: its accounts must be margined and published).
    mutating func advance(to next: Int64) -> Bool {
        nextOffset = max(nextOffset, next)
        guard case .restoring = phase, nextOffset >= restoreTarget else { return false }
        phase = .serving
        hasServed = true
        return true
    }

    /// True the first time the restore has taken longer than `timeoutMs` (to be reported once).
    mutating func restoreTimedOut(now: Int64, timeoutMs: Int64) -> Bool {
        guard case .restoring(false) = phase, now - assignedAtMs > timeoutMs else { return false }
        phase = .restoring(timeoutReported: true)
        return true
    }

    mutating func prepareRevocation() { phase = .revoking }

    /// A batch is taken that carries this shard's records up to `position`; it counts as answered
    /// only once the shard has served (a restoring shard's versions are answered when it completes).
    mutating func batchCarries(upTo position: Int64) {
        guard hasServed else { return }
        answeredPosition = max(answeredPosition ?? position, position)
    }

    /// The answered position to record now, if it moved since the last record: at most once per
    /// `intervalMs` (a successor re-answers at most the versions since — results it had already),
    /// at once when the shard is revoking or `final` (shutdown), so that the successor answers
    /// nothing twice after a handover.
    mutating func positionToRecord(now: Int64, intervalMs: Int64, final: Bool) -> Int64? {
        guard let answered = answeredPosition, answered > recordedPosition?.offset ?? .min else { return nil }
        let due = final || phase == .revoking || recordedPosition.map { now - $0.atMs >= intervalMs } ?? true
        guard due else { return nil }
        recordedPosition = (answered, now)
        return answered
    }
}

/// An account's address: its shard and id.
package struct AccountKey: Hashable, Sendable {
    package var partition: Int32
    package var id: String

    package init(partition: Int32, id: String) {
        self.partition = partition
        self.id = id
    }
}
