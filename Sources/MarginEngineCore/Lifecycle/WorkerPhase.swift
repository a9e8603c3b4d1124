/// The engine's lifecycle: `restoringReference → serving → draining`, with the reference topics'
/// restore progress. Its calls return what the engine must do (in the manner of swift-kafka-client's
/// state machines): the engine runs the action, the machine only decides.
///
/// - restoringReference: the reference topics are read up to the high watermarks seen at start
///   (or their partitions' ends); no account is margined yet (the service subscribes to the
///   accounts topic only after this phase).
/// - serving: accounts are margined and published; shards have their own restore phase
///   (``AccountShard/Phase``).
/// - draining: shutting down; nothing new is processed or planned, pending outputs are flushed.
struct WorkerPhase: Sendable {
    enum State: Equatable, Sendable {
        case restoringReference
        case serving
        case draining
    }

    enum Action: Equatable {
        case none
        /// The reference data is complete: build every risk book and start serving.
        case startServing
        /// The reference restore has taken longer than the timeout (reported once): these
        /// partitions are behind.
        case reportReferenceTimeout(afterMs: Int64, behind: [InputPartition])
    }

    private(set) var state = State.restoringReference
    private var targets: [InputPartition: Int64] = [:]
    private var positions: [InputPartition: Int64] = [:]
    private var startMs: Int64?
    private(set) var timeoutReported = false

    var isServing: Bool { state == .serving }
    var referenceRestored: Bool { state != .restoringReference }
    var isDraining: Bool { state == .draining }

    /// The positions up to which the reference partitions must be read before serving.
    mutating func setReferenceTargets(_ targets: [InputPartition: Int64], now: Int64) -> Action {
        self.targets = targets
        startMs = now
        return checkRestored()
    }

    /// A reference record at `offset` was read (its position is then `offset + 1`), or the
    /// partition's end was reported (`partitionEnd`: caught up whatever the watermark said, past
    /// any transaction marker).
    mutating func referenceRead(_ partition: InputPartition, next: Int64, partitionEnd: Bool = false) -> Action {
        var position = max(positions[partition] ?? 0, next)
        if partitionEnd { position = max(position, targets[partition] ?? 0) }
        positions[partition] = position
        return checkRestored()
    }

    /// Called on every tick: the restore timeout, reported once.
    mutating func checkTimeout(now: Int64, timeoutMs: Int64) -> Action {
        guard state == .restoringReference, !timeoutReported, let start = startMs, now - start > timeoutMs else { return .none }
        timeoutReported = true
        return .reportReferenceTimeout(afterMs: now - start, behind: behind)
    }

    /// Graceful shutdown: nothing new is processed.
    mutating func drain() { state = .draining }

    private var behind: [InputPartition] {
        targets.filter { (positions[$0.key] ?? 0) < $0.value }.keys.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }

    private mutating func checkRestored() -> Action {
        guard state == .restoringReference, !targets.isEmpty,
              targets.allSatisfy({ (positions[$0.key] ?? 0) >= $0.value }) else { return .none }
        state = .serving
        return .startServing
    }
}
