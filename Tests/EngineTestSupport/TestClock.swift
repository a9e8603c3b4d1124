import Synchronization

/// A test clock the engine reads (Unix ms), advanced by tests.
public final class TestClock: Sendable {
    private let now: Atomic<Int64>

    public init(_ start: Int64) { now = Atomic(start) }

    public func advance(_ ms: Int64) { now.add(ms, ordering: .relaxed) }

    public var value: Int64 { now.load(ordering: .relaxed) }
}
