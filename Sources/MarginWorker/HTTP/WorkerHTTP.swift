import Foundation
import Hummingbird
import Logging
import MarginCore
import MarginSchema
import Metrics
import Prometheus

/// The process-wide Prometheus registry behind swift-metrics (bootstrapped once).
public enum WorkerMetricsRegistry {
    public static let shared: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // A re-margin pass takes from tens of microseconds to seconds: finer buckets than the
        // default (5 ms … 10 s) so that p50/p99 and the autoscaler's latency trigger resolve.
        factory.durationHistogramBuckets["margin_remargin_latency_seconds"] = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }()
}

/// Requires `Authorization: Bearer <token>` when a token is configured.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let token {
            guard request.headers[.authorization] == "Bearer \(token)" else {
                return Self.error(.unauthorized, "missing or wrong bearer token")
            }
        }
        return try await next(request, context)
    }

    static func error(_ status: HTTPResponse.Status, _ reason: String) -> Response {
        let body = (try? JSONSerialization.data(withJSONObject: ["error": reason])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// A JSON response.
func json(_ data: Data, status: HTTPResponse.Status = .ok) -> Response {
    Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

/// Builds the worker's HTTP application (separate from `@main` so tests run the same app):
/// `/health`, `/ready`, `/metrics`, `GET /v1/accounts/{id}`, `POST /v1/accounts/{id}/pre-trade`,
/// `POST /v1/what-if`, and the risk
/// console (`GET /`, `GET /accounts/{id}`).
public func buildApplication(engine: MarginEngine, configuration: WorkerConfiguration, logger: Logger) -> some ApplicationProtocol {
    let router = Router()
    _ = WorkerMetricsRegistry.shared
    let statusMetrics = StatusMetrics(instance: configuration.instanceID)
    router.get("/health") { _, _ in json(Data(#"{"status":"alive"}"#.utf8)) }
    router.get("/ready") { _, _ -> Response in
        let status = await engine.status()
        let ready = await engine.isReady
        let body: [String: Any] = [
            "ready": ready, "reference_restored": status.referenceReady, "shards": status.shards.map(Int.init),
            "restored_shards": status.restoredShards.map(Int.init), "stale_underlyings": status.staleUnderlyings,
        ]
        return json((try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data(), status: ready ? .ok : .serviceUnavailable)
    }
    router.get("/metrics") { _, _ -> Response in
        statusMetrics.record(await engine.status(), ready: await engine.isReady)
        return MetricsEndpoint.response()
    }
    ConsoleRoutes.add(to: router, engine: engine, token: configuration.bearerToken)
    let v1 = router.group("v1").add(middleware: BearerTokenMiddleware(token: configuration.bearerToken))
    v1.get("accounts/:id") { _, context -> Response in
        // The router matches the raw path, so an id with reserved characters arrives percent-encoded
        // (`acct x/1` as `acct%20x%2F1`): decode it once here.
        guard let raw = context.parameters.get("id") else { return BearerTokenMiddleware<BasicRequestContext>.error(.badRequest, "missing id") }
        guard let id = raw.removingPercentEncoding, !id.isEmpty else {
            return BearerTokenMiddleware<BasicRequestContext>.error(.badRequest, "malformed percent-encoding in account id '\(raw)'")
        }
        guard let result = await engine.currentResult(accountID: id) else {
            return BearerTokenMiddleware<BasicRequestContext>.error(.notFound, "account \(id) is not held by this instance")
        }
        return json(SchemaCoding.encode(result, format: .json))
    }
    v1.post("accounts/:id/pre-trade") { request, context -> Response in
        guard let raw = context.parameters.get("id"), let id = raw.removingPercentEncoding, !id.isEmpty else {
            return BearerTokenMiddleware<BasicRequestContext>.error(.badRequest, "missing or malformed account id")
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: configuration.maxRequestBytes)
        } catch {
            return BearerTokenMiddleware<BasicRequestContext>.error(.contentTooLarge, "body larger than \(configuration.maxRequestBytes) bytes")
        }
        do {
            let proto = try SchemaCoding.decode(Margin_V1_OpenOrder.self, from: Data(body.readableBytesView), format: .json)
            guard let check = try await engine.preTrade(accountID: id, order: OpenOrder(proto: proto, field: "order")) else {
                return BearerTokenMiddleware<BasicRequestContext>.error(.notFound, "account \(id) is not held by this instance")
            }
            return json(SchemaCoding.encode(check, format: .json))
        } catch let error as MarginError {
            return BearerTokenMiddleware<BasicRequestContext>.error(.badRequest, error.description)
        } catch {
            return BearerTokenMiddleware<BasicRequestContext>.error(.badRequest, "\(error)")
        }
    }
    v1.post("what-if") { request, _ -> Response in
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: configuration.maxRequestBytes)
        } catch {
            return BearerTokenMiddleware<BasicRequestContext>.error(.contentTooLarge, "body larger than \(configuration.maxRequestBytes) bytes")
        }
        do {
            let state = try SchemaCoding.decode(Margin_V1_AccountState.self, from: Data(body.readableBytesView), format: .json)
            let result = try await engine.whatIf(try Account(proto: state))
            return json(SchemaCoding.encode(result, format: .json))
        } catch let error as MarginError {
            return BearerTokenMiddleware<BasicRequestContext>.error(.badRequest, error.description)
        } catch {
            return BearerTokenMiddleware<BasicRequestContext>.error(.badRequest, "\(error)")
        }
    }
    return Application(router: router, configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort)),
                       logger: logger)
}
