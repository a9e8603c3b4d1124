import Foundation
import Hummingbird
import Logging
import Prometheus

/// The Prometheus factory the executables bootstrap swift-metrics with (`MetricsSystem.bootstrap`
/// is the program's call, never a library's): the registry `/metrics` reads, with latency buckets
/// fitted to a re-margin pass.
public enum WorkerMetricsFactory {
    public static func make(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        // A re-margin pass takes from tens of microseconds to seconds: finer buckets than the
        // default (5 ms … 10 s) so that p50/p99 and the autoscaler's latency trigger resolve.
        let buckets: [Duration] = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        // A tick's phases (``TickProfile``) on the same scale.
        for label in ["margin_remargin_latency_seconds", "margin_tick_phase_seconds"] { factory.durationHistogramBuckets[label] = buckets }
        return factory
    }
}

/// `/metrics` in the Prometheus text format.
enum MetricsEndpoint {
    static func response(_ registry: PrometheusCollectorRegistry) -> Response {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
    }
}

/// A listener with only `/health` and `/metrics`, for roles without the worker's API:
/// `margin-engine calibrator --http-port`. Port 0 picks a free one (logged at start).
public func buildMetricsApplication(host: String, port: Int, registry: PrometheusCollectorRegistry, logger: Logger) -> some ApplicationProtocol {
    let router = Router()
    router.get("/health") { _, _ in json(Data(#"{"status":"alive"}"#.utf8)) }
    router.get("/metrics") { _, _ in MetricsEndpoint.response(registry) }
    return Application(router: router, configuration: .init(address: .hostname(host, port: port)), logger: logger)
}
