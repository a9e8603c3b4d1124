import MarginCore

/// What the risk console's overview page shows about this instance, read from the engine's memory
/// (``EngineSnapshot/consoleOverview(group:nearestCount:)``). Amounts are in the parameter set's valuation asset.
public struct ConsoleOverview: Sendable {
    /// One assigned partition of the accounts topic.
    public struct Partition: Sendable, Hashable {
        public var partition: Int32
        public var restored: Bool
        public var accounts: Int
        /// Offset the partition must be read up to before it publishes, and the next offset to read.
        public var restoreTarget: Int64
        public var nextOffset: Int64
    }

    /// One underlying's latest snapshot.
    public struct Market: Sendable, Hashable {
        public var underlying: String
        public var indexPrice: Double
        public var indexConfidence: Double
        public var timestampMs: Int64
        /// Now minus the snapshot time (ms).
        public var ageMs: Int64
        public var stale: Bool
    }

    /// An instruction published and not yet resolved.
    public struct Instruction: Sendable, Hashable {
        public var id: String
        public var accountID: String
        public var round: UInt32
        public var deadlineMs: Int64
        public var partition: Int32
    }

    public var instanceID: String
    public var group: String
    public var parameterSetID: String
    /// Version of the active parameter set (nil when there is none yet).
    public var parameterSetVersion: Int64?
    public var valuationAsset: String
    public var nowMs: Int64
    public var referenceRestored: Bool
    public var ready: Bool
    public var partitions: [Partition]
    public var markets: [Market]
    /// Accounts per effective health state (every state present, zeros included).
    public var accountsByHealth: [HealthState: Int]
    /// Accounts held but not margined (missing market or parameters).
    public var unmargined: Int
    /// The accounts nearest liquidation, nearest first (``ConsoleAccountRow/cushion`` ascending).
    public var nearest: [ConsoleAccountRow]
    public var outstanding: [Instruction]
    /// Liquidatable accounts waiting for anti-cascade budget.
    public var queued: [String]
    public var latencyP50Ms: Double
    public var latencyP99Ms: Double

    public var accounts: Int { accountsByHealth.values.reduce(0, +) + unmargined }
}

/// One margined account in the console's tables.
public struct ConsoleAccountRow: Sendable, Hashable {
    public var id: String
    public var partition: Int32
    public var health: HealthState
    public var equity: Double
    public var maintenance: Double
    public var initial: Double

    /// `(equity − MM) / MM`: how far equity may fall, relative to MM, before the account is
    /// liquidatable (negative: it already is). An account without a requirement has +∞.
    public var cushion: Double {
        maintenance > 0 ? (equity - maintenance) / maintenance : (equity < 0 ? -.infinity : .infinity)
    }

    /// Nearest liquidation first; ties by id so the order is stable.
    static func nearerLiquidation(_ a: ConsoleAccountRow, _ b: ConsoleAccountRow) -> Bool {
        a.cushion != b.cushion ? a.cushion < b.cushion : a.id < b.id
    }
}

/// One account's page: its margin with the full explanation, or why it cannot be margined.
public struct ConsoleAccount: Sendable {
    public var id: String
    public var version: UInt64
    public var partition: Int32
    /// Nil when the account cannot be margined right now (see ``blockedReason``).
    public var result: MarginResult?
    public var blockedReason: String?
    /// Grid scenario labels per underlying, index-aligned with ``RiskUnitMargin/scenarioPnLs``.
    public var scenarioLabels: [String: [String]]
    public var outstanding: ConsoleOverview.Instruction?
    /// Why the liquidatable account has no instruction this window (nil: it is not waiting).
    public var waitingReason: String?
    public var nowMs: Int64
}
