import Dispatch

/// A task executor on its own dispatch queue, outside Swift's cooperative pool: work preferring it
/// (`withTaskExecutorPreference`) gets a thread of its own even while a pass's parallel
/// re-margin occupies every thread of the pool, and the operating system shares the cores among
/// them. HTTP's what-if runs here so that it never waits for a chunk of the pass to finish.
public final class DedicatedExecutor: TaskExecutor {
    private let queue: DispatchQueue

    /// `label` names the queue (and its thread, in profiles).
    public init(label: String) {
        // A serial queue with the default target, an overcommitting root queue: it is given a thread
        // when every other is busy (the global queues, and the cooperative pool on them, do not).
        queue = DispatchQueue(label: label, qos: .userInitiated)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
