import Synchronization

/// A bound on requests running at once: `acquire` succeeds while fewer than `limit` hold a slot.
/// Refusing (429) instead of queueing keeps a burst from building a backlog nobody waits for.
final class ConcurrencyLimit: Sendable {
    let limit: Int
    private let running = Atomic<Int>(0)

    init(_ limit: Int) { self.limit = max(1, limit) }

    /// Takes a slot; false when all `limit` are taken.
    func acquire() -> Bool {
        var current = running.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = running.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Gives a slot back.
    func release() { running.subtract(1, ordering: .releasing) }
}
