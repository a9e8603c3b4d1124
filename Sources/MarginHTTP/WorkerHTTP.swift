import Foundation
import Hummingbird
import HummingbirdCore
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
    // Every route but `/health` reads the engine's published snapshot (`engine.view`): none waits
    // for a pass.
    let notPublished: @Sendable () -> Response = { HTTPError.response(.serviceUnavailable, "the engine has not published its state yet") }
    router.get("/ready") { _, _ -> Response in
        guard let snapshot = engine.view.snapshot else { return notPublished() }
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
        guard let snapshot = engine.view.snapshot else { return notPublished() }
        guard let answer = snapshot.currentResult(accountID: id) else {
            return HTTPError.response(.notFound, "account \(id) is not held by this instance")
        }
        var message = answer.result.proto
        message.liquidation = answer.liquidation.proto
        return json(try SchemaCoding.encode(message, format: .json))
    }
    // What-ifs and pre-trade checks margin posted positions: at most `what_if_concurrency` at once,
    // against the snapshot's books on their own executor (a pass occupying the cooperative pool
    // does not delay them); more are refused rather than queued behind each other.
    let whatIfSlots = ConcurrencyLimit(configuration.whatIfConcurrency)
    let whatIfExecutor = DedicatedExecutor(label: "margin.what-if")
    let saturated: @Sendable () -> Response = { HTTPError.response(.tooManyRequests, "\(configuration.whatIfConcurrency) what-if requests are running; retry later") }
    v1.post("accounts/:id/pre-trade") { request, context -> Response in
        guard let id = accountID(context) else { return HTTPError.response(.badRequest, "missing or malformed account id") }
        guard whatIfSlots.acquire() else { return saturated() }
        defer { whatIfSlots.release() }
        return await answer(request, limit: configuration.maxRequestBytes) { body in
            let proto = try SchemaCoding.decode(Margin_V1_OpenOrder.self, from: body, format: .json)
            let order = try OpenOrder(proto: proto, field: "order")
            guard let snapshot = engine.view.snapshot else { return notPublished() }
            let check = try await withTaskExecutorPreference(whatIfExecutor) { () async throws(MarginError) -> PreTradeCheck? in
                try snapshot.preTrade(accountID: id, order: order)
            }
            guard let check else { return HTTPError.response(.notFound, "account \(id) is not held by this instance") }
            return json(try SchemaCoding.encode(check.proto, format: .json))
        }
    }
    let entryCounts = EntryCountGuard.accountState(configuration.inputBounds)
    v1.post("what-if") { request, _ -> Response in
        guard whatIfSlots.acquire() else { return saturated() }
        defer { whatIfSlots.release() }
        return await answer(request, limit: configuration.maxRequestBytes) { body in
            // Counts first: a body of too many entries costs one short scan, not a decode.
            try entryCounts.check(body)
            let state = try SchemaCoding.decode(Margin_V1_AccountState.self, from: body, format: .json)
            guard let snapshot = engine.view.snapshot else { return notPublished() }
            let account = try Account(proto: state)
            let result = try await withTaskExecutorPreference(whatIfExecutor) { () async throws(MarginError) -> MarginResult in
                try snapshot.whatIf(account)
            }
            return json(try SchemaCoding.encode(result.proto(), format: .json))
        }
    }
    // Connections are bounded in number and in idle time (see ``ConnectionLimit``).
    let fileLimit = FileDescriptorLimit.current()?.soft
    let connections = ConnectionLimit(limit: ConnectionLimit.effective(configured: configuration.httpMaxConnections, fileLimit: fileLimit),
                                      instance: configuration.instanceID)
    if connections.limit < configuration.httpMaxConnections {
        logger.warning("http_max_connections lowered to \(connections.limit) by the open-file limit",
                       metadata: ["open_file_limit": "\(fileLimit.map(String.init) ?? "unknown")"])
    }
    let server = HTTPServerBuilder.http1(configuration: .init(additionalChannelHandlers: [ConnectionGuardHandler(connections)],
                                                              idleTimeout: .milliseconds(configuration.httpIdleTimeout.milliseconds)))
    return Application(router: router, server: server,
                       configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort)), logger: logger)
}
