import Dispatch

/// An executor on a serial dispatch queue of its own, outside Swift's cooperative pool: work on it
/// gets a thread even while every thread of the pool is busy, and the operating system shares the
/// cores among them.
///
/// Two uses, one mechanism:
/// - as an actor's serial executor (``MarginEngine/unownedExecutor``): a pass holds the engine for
///   its whole length, and its parallel re-margin (`concurrentPerform`) would otherwise take the
///   pool's threads — one per core — from HTTP handlers, the Kafka adapters and the publication;
/// - as a task executor (`withTaskExecutorPreference`): HTTP's what-if runs here, so that it never
///   waits for a chunk of a pass to finish.
public final class DedicatedExecutor: SerialExecutor, TaskExecutor {
    private let queue: DispatchQueue

    /// `label` names the queue (and its thread, in profiles).
    public init(label: String) {
        // A serial queue with the default target, an overcommitting root queue: it is given a thread
        // when every other is busy (the global queues, and the cooperative pool on them, do not).
        queue = DispatchQueue(label: label, qos: .userInitiated)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let serial = asUnownedSerialExecutor()
        let task = asUnownedTaskExecutor()
        // Isolated to this executor when it is an actor's (a job of a task that only prefers it
        // runs as it would elsewhere), on this queue either way.
        queue.async { job.runSynchronously(isolatedTo: serial, taskExecutor: task) }
    }
}
