import MarginHTTP
import Metrics
import Prometheus

/// The test process bootstraps swift-metrics once, as the executables do (the libraries never
/// do), so that `/metrics` shows what the engine records.
enum TestMetrics {
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(WorkerMetricsFactory.make(registry: registry))
        return registry
    }()
}
