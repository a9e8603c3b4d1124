/// An append-only record of what a test observed (consumer events, published messages) on which
/// a test can await a condition instead of sleeping.
///
/// `wait(until:)` returns as soon as the condition holds over the elements appended so far, or
/// when the waiting task is cancelled — pair it with ``withDeadline(seconds:_:_:)`` to bound it.
public actor AwaitableLog<Element: Sendable> {
    public private(set) var elements: [Element] = []
    private var waiters: [Int: (condition: @Sendable ([Element]) -> Bool, continuation: CheckedContinuation<Void, Never>)] = [:]
    private var nextWaiter = 0

    public init() {}

    public func append(_ element: Element) {
        elements.append(element)
        for (id, waiter) in waiters where waiter.condition(elements) {
            waiters[id] = nil
            waiter.continuation.resume()
        }
    }

    /// Returns when `condition` holds, or when the waiting task is cancelled (deadline).
    public func wait(until condition: @escaping @Sendable ([Element]) -> Bool) async {
        if condition(elements) { return }
        let id = nextWaiter
        nextWaiter += 1
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled { continuation.resume() } else { waiters[id] = (condition, continuation) }
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    private func cancel(_ id: Int) {
        waiters.removeValue(forKey: id)?.continuation.resume()
    }
}
