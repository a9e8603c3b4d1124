import Dispatch

/// Where the engine's last tick spent its time, phase by phase (wall-clock nanoseconds on the
/// engine's thread; the parallel phases ran on every core meanwhile). The phases add up to the
/// tick; results encoded and published by the adapter afterwards are not part of it.
public struct TickProfile: Sendable, Hashable {
    /// A stretch of the tick, in the order they run.
    public enum Phase: String, Sendable, CaseIterable {
        /// The risk books of moved markets rebuilt, accounts waiting for them compiled.
        case books
        /// Staleness, the periodic refresh's slice, and the affected accounts read.
        case gather
        /// Every affected account's margin summary (parallel).
        case summaries
        /// Per account, in order: stale guard, figures stored, publication rule, liquidation candidate.
        case decisions
        /// Published results explained or summarised (parallel).
        case results
        /// Results queued in the batch, in order.
        case queue
        /// Liquidation planning (in severity order, against the budgets), and the pass's working
        /// arrays released.
        case liquidations
        /// Health gauges and the published snapshot.
        case publication
    }

    /// Nanoseconds per phase (phases that did not run are absent).
    public private(set) var nanoseconds: [Phase: Int64] = [:]
    private var lapStart: UInt64 = 0

    public init() {}

    /// Starts timing at the tick's beginning.
    mutating func start() {
        nanoseconds = [:]
        lapStart = DispatchTime.now().uptimeNanoseconds
    }

    /// Charges the time since the last lap to `phase` (added to what it already has).
    mutating func lap(_ phase: Phase) {
        let now = DispatchTime.now().uptimeNanoseconds
        nanoseconds[phase, default: 0] += Int64(now &- lapStart)
        lapStart = now
    }

    /// The whole tick (the sum of its phases), in nanoseconds.
    public var total: Int64 { nanoseconds.values.reduce(0, +) }
}
