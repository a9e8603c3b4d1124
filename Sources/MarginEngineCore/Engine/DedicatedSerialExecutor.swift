import Dispatch

/// A serial executor on its own dispatch queue, outside Swift's cooperative pool: the engine actor
/// runs here (``MarginEngine/unownedExecutor``). A pass holds the actor for its whole length, and
/// its parallel re-margin (`concurrentPerform`) would otherwise take the pool's threads — one per
/// core — from everything else: HTTP handlers, the Kafka adapters' tasks and the output
/// publication would wait for chunks of the pass. Here the pass runs on its own thread and the
/// global queue's, and the operating system shares the cores among them.
public final class DedicatedSerialExecutor: SerialExecutor {
    private let queue: DispatchQueue

    /// `label` names the queue (and its thread, in profiles).
    public init(label: String) {
        // A serial queue with the default target, an overcommitting root queue: it is given a
        // thread when every other is busy.
        queue = DispatchQueue(label: label, qos: .userInitiated)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
