import Foundation
import Hummingbird
import Logging
import Prometheus

/// `/metrics` in the Prometheus text format, from the process-wide registry.
enum MetricsEndpoint {
    static func response(_ registry: PrometheusCollectorRegistry = WorkerMetricsRegistry.shared) -> Response {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
    }
}

/// A listener with only `/health` and `/metrics` (the worker's registry), for roles without the
/// worker's API: `margin-engine calibrator --http-port`. Port 0 picks a free one (logged at start).
public func buildMetricsApplication(host: String, port: Int, logger: Logger) -> some ApplicationProtocol {
    _ = WorkerMetricsRegistry.shared
    let router = Router()
    router.get("/health") { _, _ in json(Data(#"{"status":"alive"}"#.utf8)) }
    router.get("/metrics") { _, _ in MetricsEndpoint.response() }
    return Application(router: router, configuration: .init(address: .hostname(host, port: port)), logger: logger)
}
