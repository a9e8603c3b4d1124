import MarginEngineCore
import Metrics

/// Gauges of the engine's state, recorded from ``MarginEngine/status()`` each time `/metrics` is
/// scraped (the engine has no event for "still restoring"): partitions assigned and restored,
/// reference data restored, readiness and outstanding liquidation instructions. The alert on a
/// restore that takes too long reads them.
struct StatusMetrics: Sendable {
    let instance: String

    func record(_ status: WorkerStatus, ready: Bool) {
        Gauge(label: "margin_shards_assigned", dimensions: [("instance", instance)]).record(status.shards.count)
        Gauge(label: "margin_shards_restored", dimensions: [("instance", instance)]).record(status.restoredShards.count)
        Gauge(label: "margin_reference_restored", dimensions: [("instance", instance)]).record(status.referenceReady ? 1 : 0)
        Gauge(label: "margin_ready", dimensions: [("instance", instance)]).record(ready ? 1 : 0)
        Gauge(label: "margin_liquidation_outstanding", dimensions: [("instance", instance)]).record(status.outstandingInstructions)
    }
}
