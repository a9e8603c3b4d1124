import Foundation
import KafkaClient
import Logging
import MarginCore
import MarginDemo
import MarginSchema
import MarginWorker
import Metrics
import ServiceLifecycle
import Synchronization

/// What the through-Kafka benchmark observes from outside the engine: the worker's commit counters
/// (swift-metrics), its restore milestones (log lines) and the `read_committed` result reader.
extension WorkerKafkaBench {
    /// `margin_results_published_total` (incremented when a batch's transaction is committed) and
    /// `margin_transactions_aborted_total`; every other metric is dropped.
    final class CommittedCounter: MetricsFactory, Sendable {
        let results = Atomic<Int>(0)
        let aborted = Atomic<Int>(0)

        final class Handler: CounterHandler, Sendable {
            let body: @Sendable (Int64) -> Void
            init(_ body: @escaping @Sendable (Int64) -> Void) { self.body = body }
            func increment(by amount: Int64) { body(amount) }
            func reset() {}
        }

        func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
            switch label {
            case "margin_results_published_total":
                return Handler { [self] amount in results.add(Int(amount), ordering: .relaxed) }
            case "margin_transactions_aborted_total":
                return Handler { [self] amount in aborted.add(Int(amount), ordering: .relaxed) }
            default:
                return NOOPMetricsHandler.instance
            }
        }
        func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { NOOPMetricsHandler.instance }
        func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { NOOPMetricsHandler.instance }
        func destroyCounter(_ handler: any CounterHandler) {}
        func destroyRecorder(_ handler: any RecorderHandler) {}
        func destroyTimer(_ handler: any TimerHandler) {}
    }

    /// Installs ``committed`` as the process's metrics backend (once).
    static let installMetrics: Void = { MetricsSystem.bootstrap(committed) }()

    /// Times of the worker's restore milestones, taken from its log lines; warnings and errors go to
    /// standard error.
    final class Milestones: Sendable {
        struct State {
            var firstShardAssignedNs: UInt64?
            var shardsRestored = 0
            var lastShardRestoredNs: UInt64?
            var referenceRestoredNs: UInt64?
        }
        let state = Mutex(State())
    }

    struct MilestoneLogHandler: LogHandler {
        let milestones: Milestones
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info
        var metadataProvider: Logger.MetadataProvider?

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let now = DispatchTime.now().uptimeNanoseconds
            let message = event.message.description
            switch message {
            case "shard assigned": milestones.state.withLock { if $0.firstShardAssignedNs == nil { $0.firstShardAssignedNs = now } }
            case "shard restored": milestones.state.withLock { $0.shardsRestored += 1; $0.lastShardRestoredNs = now }
            case "reference data restored": milestones.state.withLock { $0.referenceRestoredNs = now }
            default: break
            }
            if event.level >= .warning {
                let fields = (event.metadata ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
                FileHandle.standardError.write(Data("bench worker \(event.level): \(message) \(fields)\n".utf8))
            }
        }
    }

    /// A `read_committed` consumer of the results topic that counts records (no decoding).
    final class ResultReader: Sendable {
        let count = Atomic<Int>(0)
        let bytes = Atomic<Int>(0)
        let lastNs = Atomic<UInt64>(0)
    }
}
