import MarginCore

/// A snapshot of the engine's state (the status line, `/v1/status`, tests).
public struct WorkerStatus: Sendable, Hashable {
    public var referenceReady: Bool
    /// Whether the consumer group has given this instance its assignment yet (it may be empty:
    /// more instances than partitions).
    public var assigned: Bool
    public var shards: [Int32]
    public var restoredShards: [Int32]
    public var accounts: Int
    public var accountsByHealth: [HealthState: Int]
    public var staleUnderlyings: [String]
    public var queuedLiquidations: Int
    public var outstandingInstructions: Int
    public var maxQueuedLiquidations: Int
    public var processedMarketMs: [String: Int64]
    public var latencyP50Ms: Double
    public var latencyP99Ms: Double
    public var pendingOutputs: Int
    /// Coalescing windows run since start: a watermark (the worker flushes each window's batch
    /// before the next window starts, so once this has grown by two, one whole window's outputs
    /// are published).
    public var ticks: Int
    /// Liquidatable accounts not instructed in the last window, and why each waits
    /// (``WaitingReason/code``: budget, no_depth, plan_error).
    public var waitingReasons: [String: String]
    /// The accounts of ``waitingReasons``.
    public var queuedAccounts: Set<String> { Set(waitingReasons.keys) }
}
