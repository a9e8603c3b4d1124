import DequeModule
import Foundation
import Synchronization

/// What a ``KafkaConsumer`` delivers, in order.
public enum KafkaConsumerEvent: Sendable {
    /// A record (a nil value is a tombstone).
    case message(KafkaMessage)
    /// Partitions added to this member's assignment by a group rebalance (incremental).
    case partitionsAssigned([TopicPartition])
    /// Partitions taken away by a group rebalance, or released on close. Records of these
    /// partitions delivered before this event were fetched while they were owned.
    case partitionsRevoked([TopicPartition])
    /// The consumer reached the end of a partition: `nextOffset` is its position, past any
    /// transaction markers (which are never delivered as records). Only with
    /// ``KafkaConsumerConfiguration/partitionEndEvents``; sent again each time the end is reached
    /// after new records.
    case partitionEnd(TopicPartition, nextOffset: Int64)
    /// A client-level error (fatal errors, all brokers down); consumption continues unless fatal.
    case error(KafkaError)
}

/// The bounded hand-over between the polling thread and the async consumer of events.
///
/// State lives in a mutex; continuations are resumed outside it. Pushing never blocks: the
/// polling thread applies back-pressure by pausing the assignment when ``count`` stays at
/// ``capacity`` (see ``KafkaConsumer`` and ``ConsumerFlowControl``). While it gives the
/// application a grace period to drain a full buffer it sleeps on a condition the reader signals,
/// never spinning.
final class ConsumerEventBuffer: Sendable {
    private struct State {
        var events = Deque<KafkaConsumerEvent>()
        var waiter: CheckedContinuation<KafkaConsumerEvent?, Never>?
        var finished = false
    }

    let capacity: Int
    private let state = Mutex(State())
    /// Signalled by the reader while the polling thread waits in ``waitUntilDrained(to:timeout:)``.
    private let drainSignal = NSCondition()
    private let pollerWaiting = Atomic<Bool>(false)

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Waits (on the polling thread, never on the cooperative pool) until at most `target` events
    /// are buffered, the buffer is finished, or `timeout` has passed.
    func waitUntilDrained(to target: Int, timeout: Duration) {
        let deadline = Date(timeIntervalSinceNow: Double(timeout.components.seconds) + Double(timeout.components.attoseconds) * 1e-18)
        drainSignal.lock()
        defer { drainSignal.unlock() }
        pollerWaiting.store(true, ordering: .sequentiallyConsistent)
        defer { pollerWaiting.store(false, ordering: .sequentiallyConsistent) }
        while true {
            let (count, finished) = state.withLock { ($0.events.count, $0.finished) }
            if count <= target || finished { return }
            // The reader signals under the same lock, so a wake-up between the check and the wait is not lost.
            if !drainSignal.wait(until: deadline) { return }
        }
    }

    /// Wakes the polling thread if it waits for the buffer to drain.
    private func signalDrained() {
        guard pollerWaiting.load(ordering: .sequentiallyConsistent) else { return }
        drainSignal.lock()
        drainSignal.broadcast()
        drainSignal.unlock()
    }

    /// Adds an event (never blocks). Returns false once finished.
    @discardableResult
    func push(_ event: KafkaConsumerEvent) -> Bool {
        let waiter: CheckedContinuation<KafkaConsumerEvent?, Never>?? = state.withLock { s in
            if s.finished { return nil }
            if let waiter = s.waiter {
                s.waiter = nil
                return .some(waiter)
            }
            s.events.append(event)
            return .some(nil)
        }
        switch waiter {
        case .none: return false
        case .some(.some(let continuation)): continuation.resume(returning: event)
        case .some(.none): break
        }
        return true
    }

    /// The next event, or nil when finished (or the awaiting task is cancelled). One consumer only.
    func next() async -> KafkaConsumerEvent? {
        let event: KafkaConsumerEvent? = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<KafkaConsumerEvent?, Never>) in
                let immediate: KafkaConsumerEvent?? = state.withLock { s in
                    if let event = s.events.popFirst() { return .some(event) }
                    if s.finished || Task.isCancelled { return .some(nil) }
                    s.waiter = continuation
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<KafkaConsumerEvent?, Never>? in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume(returning: nil)
        }
        signalDrained()
        return event
    }

    /// The events buffered now, at most `maxCount` and at least one (waiting for the first), or nil
    /// when finished (or the awaiting task is cancelled). One consumer only; never mixed with
    /// ``next()`` by two readers.
    func nextBatch(maxCount: Int) async -> [KafkaConsumerEvent]? {
        guard let first = await next() else { return nil }
        var batch = [first]
        let limit = max(1, maxCount)
        state.withLock { s in
            while batch.count < limit, let event = s.events.popFirst() { batch.append(event) }
        }
        if batch.count > 1 { signalDrained() }
        return batch
    }

    /// Ends the stream after the buffered events.
    func finish() {
        let waiter = state.withLock { s -> CheckedContinuation<KafkaConsumerEvent?, Never>? in
            s.finished = true
            defer { s.waiter = nil }
            return s.events.isEmpty ? s.waiter : nil
        }
        waiter?.resume(returning: nil)
        signalDrained()
    }

    var count: Int { state.withLock { $0.events.count } }
}

/// The consumer's events as an `AsyncSequence` (single consumer; iteration ends when the
/// consumer is closed).
public struct KafkaConsumerEvents: AsyncSequence, Sendable {
    public typealias Element = KafkaConsumerEvent
    let buffer: ConsumerEventBuffer

    public struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        let buffer: ConsumerEventBuffer

        public mutating func next() async -> KafkaConsumerEvent? {
            await buffer.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(buffer: buffer)
    }

    /// The same events in order, as arrays of what is buffered when the reader asks (at most
    /// `maxCount`, at least one): a reader that hands events to an actor pays one hop per batch
    /// rather than per record. Not to be iterated alongside the events themselves.
    public func batches(maxCount: Int) -> KafkaConsumerEventBatches {
        KafkaConsumerEventBatches(buffer: buffer, maxCount: maxCount)
    }
}

/// A consumer's events in batches (see ``KafkaConsumerEvents/batches(maxCount:)``).
public struct KafkaConsumerEventBatches: AsyncSequence, Sendable {
    public typealias Element = [KafkaConsumerEvent]
    let buffer: ConsumerEventBuffer
    let maxCount: Int

    public struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        let buffer: ConsumerEventBuffer
        let maxCount: Int

        public mutating func next() async -> [KafkaConsumerEvent]? {
            await buffer.nextBatch(maxCount: maxCount)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(buffer: buffer, maxCount: maxCount)
    }
}
