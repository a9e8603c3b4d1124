import Logging
import MarginHTTP
import Metrics
import Prometheus

/// The program's one-time set-up of swift-log and swift-metrics (libraries never bootstrap them).
enum ProcessObservability {
    /// Logs to standard output (collected by the container runtime); metrics into a Prometheus
    /// registry that `/metrics` serves. Call once, before any service starts.
    static func bootstrap() -> PrometheusCollectorRegistry {
        LoggingSystem.bootstrap(StreamLogHandler.standardOutput)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(WorkerMetricsFactory.make(registry: registry))
        return registry
    }
}
