import Foundation
import Synchronization

/// The dedicated thread that serves one librdkafka handle: runs `iteration` until stopped, then
/// `finish`, then wakes everyone waiting for it. It holds only what it is given, so a client
/// dropped without `close()` stops its thread from `deinit`.
final class PollingThread: Sendable {
    private let stopRequested = Atomic<Bool>(false)
    private let state = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// Starts the thread. `iteration` must return within about 100 ms.
    static func start(name: String, iteration: @escaping @Sendable () -> Void, finish: @escaping @Sendable () -> Void) -> PollingThread {
        let control = PollingThread()
        let thread = Thread {
            while !control.stopRequested.load(ordering: .acquiring) { iteration() }
            finish()
            let waiters = control.state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.done = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
        thread.name = name
        thread.start()
        return control
    }

    var isStopping: Bool { stopRequested.load(ordering: .acquiring) }

    func requestStop() {
        stopRequested.store(true, ordering: .releasing)
    }

    /// Requests a stop and waits until `finish` has run.
    func stop() async {
        requestStop()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.done { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
