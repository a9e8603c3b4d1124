/// The consumer's flow control as a state machine (in the manner of swift-kafka-client): calls
/// change the state and return the action the consumer must run against librdkafka; the machine
/// itself touches nothing, so it is tested without a broker.
///
/// - running: fetching every assigned partition except those the application paused.
/// - backPressured: the event buffer filled up and stayed full through the grace period; the
///   whole assignment is paused until the buffer has drained to half.
/// - closing / closed: ``close()`` was called; nothing is paused or resumed any more and the
///   application's flow-control calls fail with ``KafkaError/closed``.
///
/// The partitions the application paused (``KafkaConsumer/pause(_:)``) are kept in every live
/// state: they stay paused across back-pressure and new assignments.
struct ConsumerFlowControl: Sendable {
    enum State: Equatable, Sendable {
        case running
        case backPressured
        case closing
        case closed
    }

    /// What the consumer runs next.
    enum Action: Equatable, Sendable {
        case none
        /// Pause these partitions.
        case pause([TopicPartition])
        /// Resume these partitions.
        case resume([TopicPartition])
        /// Pause the current assignment except `except` (already paused by the application).
        case pauseAssignment(except: Set<TopicPartition>)
        /// Resume the current assignment except `except` (still paused by the application).
        case resumeAssignment(except: Set<TopicPartition>)
    }

    private(set) var state = State.running
    /// Partitions the application paused.
    private(set) var userPaused: Set<TopicPartition> = []

    var isClosed: Bool { state == .closing || state == .closed }

    /// The polling thread saw `count` buffered events (after the grace period when full).
    mutating func bufferLevel(_ count: Int, capacity: Int) -> Action {
        switch state {
        case .running where count >= capacity:
            state = .backPressured
            return .pauseAssignment(except: userPaused)
        case .backPressured where count <= capacity / 2:
            state = .running
            return .resumeAssignment(except: userPaused)
        default:
            return .none
        }
    }

    /// The pause or resume of a ``bufferLevel(_:capacity:)`` action could not be run (e.g. the
    /// assignment could not be read): back to the previous state, so the next turn tries again.
    mutating func assignmentActionFailed(_ action: Action) {
        switch (state, action) {
        case (.backPressured, .pauseAssignment): state = .running
        case (.running, .resumeAssignment): state = .backPressured
        default: break
        }
    }

    /// The application pauses `partitions`.
    mutating func pause(_ partitions: [TopicPartition]) throws(KafkaError) -> Action {
        guard !isClosed else { throw .closed }
        userPaused.formUnion(partitions)
        return .pause(partitions)
    }

    /// The application resumes `partitions`; while back-pressured they resume with the rest of
    /// the assignment once the buffer has drained.
    mutating func resume(_ partitions: [TopicPartition]) throws(KafkaError) -> Action {
        guard !isClosed else { throw .closed }
        userPaused.subtract(partitions)
        return state == .backPressured ? .none : .resume(partitions)
    }

    /// A rebalance assigned `partitions` (fetching by default): those that must not fetch are
    /// paused at once.
    func assigned(_ partitions: [TopicPartition]) -> Action {
        let paused = state == .running ? partitions.filter(userPaused.contains) : partitions
        return paused.isEmpty || state == .closed ? .none : .pause(paused)
    }

    /// ``KafkaConsumer/close()`` started: the group is being left.
    mutating func close() { if state != .closed { state = .closing } }

    /// The consumer left the group and its events ended.
    mutating func closed() { state = .closed }
}
