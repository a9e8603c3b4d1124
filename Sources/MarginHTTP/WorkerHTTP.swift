import Foundation
import Hummingbird
import Logging
import MarginCore
import MarginEngineCore
import MarginSchema
import MarginWorker
import Metrics
import Prometheus

/// Builds the worker's HTTP application (separate from `@main` so tests run the same app):
/// `/health`, `/ready`, `/metrics`, `GET /v1/accounts/{id}`, `POST /v1/accounts/{id}/pre-trade`,
/// `POST /v1/what-if`, and the risk
/// console (`GET /`, `GET /accounts/{id}`).
///
/// `registry` is the one the program bootstrapped swift-metrics with (``WorkerMetricsFactory``).
public func buildApplication(engine: MarginEngine, configuration: WorkerConfiguration, registry: PrometheusCollectorRegistry,
                             logger: Logger) -> some ApplicationProtocol {
    let router = Router()
    let statusMetrics = StatusMetrics(instance: configuration.instanceID)
    router.get("/health") { _, _ in json(Data(#"{"status":"alive"}"#.utf8)) }
    // Status, readiness and the what-if read the engine's published snapshot (`engine.view`):
    // they never wait for a pass.
    router.get("/ready") { _, _ -> Response in
        guard let snapshot = engine.view.snapshot else {
            return HTTPError.response(.serviceUnavailable, "the engine has not published its state yet")
        }
        let status = snapshot.status
        let ready = snapshot.isReady
        let body: [String: Any] = [
            "ready": ready, "reference_restored": status.referenceReady, "assigned": status.assigned,
            "owns_nothing": status.assigned && status.shards.isEmpty, "shards": status.shards.map(Int.init),
            "restored_shards": status.restoredShards.map(Int.init), "stale_underlyings": status.staleUnderlyings,
        ]
        return json((try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data(), status: ready ? .ok : .serviceUnavailable)
    }
    router.get("/metrics") { _, _ -> Response in
        if let snapshot = engine.view.snapshot { statusMetrics.record(snapshot.status, ready: snapshot.isReady) }
        return MetricsEndpoint.response(registry)
    }
    ConsoleRoutes.add(to: router, engine: engine, group: configuration.group, token: configuration.bearerToken)
    let v1 = router.group("v1").add(middleware: BearerTokenMiddleware(token: configuration.bearerToken))
    v1.get("accounts/:id") { _, context -> Response in
        guard let id = accountID(context) else {
            return HTTPError.response(.badRequest, "missing account id or malformed percent-encoding in '\(context.parameters.get("id") ?? "")'")
        }
        guard let answer = await engine.currentResult(accountID: id) else {
            return HTTPError.response(.notFound, "account \(id) is not held by this instance")
        }
        var message = answer.result.proto
        message.liquidation = answer.liquidation.proto
        return json(try SchemaCoding.encode(message, format: .json))
    }
    v1.post("accounts/:id/pre-trade") { request, context -> Response in
        guard let id = accountID(context) else { return HTTPError.response(.badRequest, "missing or malformed account id") }
        return await answer(request, limit: configuration.maxRequestBytes) { body in
            let proto = try SchemaCoding.decode(Margin_V1_OpenOrder.self, from: body, format: .json)
            guard let check = try await engine.preTrade(accountID: id, order: OpenOrder(proto: proto, field: "order")) else {
                return HTTPError.response(.notFound, "account \(id) is not held by this instance")
            }
            return json(try SchemaCoding.encode(check.proto, format: .json))
        }
    }
    let whatIfSlots = ConcurrencyLimit(configuration.whatIfConcurrency)
    let whatIfExecutor = DedicatedExecutor(label: "margin.what-if")
    v1.post("what-if") { request, _ -> Response in
        // At most `what_if_concurrency` at once, against the snapshot's books on the what-if's own
        // executor; more are refused rather than queued behind each other.
        guard whatIfSlots.acquire() else {
            return HTTPError.response(.tooManyRequests, "\(configuration.whatIfConcurrency) what-if requests are running; retry later")
        }
        defer { whatIfSlots.release() }
        return await answer(request, limit: configuration.maxRequestBytes) { body in
            let state = try SchemaCoding.decode(Margin_V1_AccountState.self, from: body, format: .json)
            guard let snapshot = engine.view.snapshot else {
                return HTTPError.response(.serviceUnavailable, "the engine has not published its state yet")
            }
            let account = try Account(proto: state)
            // On its own thread: a pass occupying the cooperative pool does not delay it.
            let result = try await withTaskExecutorPreference(whatIfExecutor) { () async throws(MarginError) -> MarginResult in
                try snapshot.whatIf(account)
            }
            return json(try SchemaCoding.encode(result.proto(), format: .json))
        }
    }
    return Application(router: router, configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort)),
                       logger: logger)
}
