import MarginEngineCore
import Foundation
import Hummingbird

/// The risk console's routes on the worker's HTTP port: `GET /` and `GET /accounts/{id}`,
/// server-rendered HTML behind the same bearer-token rule as `/v1`, from the engine's published
/// snapshot (never waiting for a pass).
enum ConsoleRoutes {
    /// How many accounts the overview lists, nearest liquidation first.
    static let nearestCount = 20

    static func add(to router: Router<BasicRequestContext>, engine: MarginEngine, group: String, token: String?) {
        let console = router.group().add(middleware: BearerTokenMiddleware(token: token))
        console.get("/") { _, _ -> Response in
            guard let snapshot = engine.view.snapshot else { return notPublished() }
            return html(ConsoleOverviewPage.render(snapshot.consoleOverview(group: group, nearestCount: nearestCount)))
        }
        console.get("accounts/:id") { _, context -> Response in
            // Percent-decoded once, as for `/v1/accounts/{id}`.
            guard let raw = context.parameters.get("id"), let id = raw.removingPercentEncoding, !id.isEmpty else {
                return html(ConsoleHTML.page(title: "Bad request", body: "<h1>Malformed account id</h1>"), status: .badRequest)
            }
            guard let snapshot = engine.view.snapshot else { return notPublished() }
            guard let account = snapshot.consoleAccount(id: id) else {
                return html(ConsoleHTML.page(title: "Not found", body: "<h1>Account \(ConsoleHTML.escape(id)) is not held by this instance</h1>"),
                            status: .notFound)
            }
            return html(ConsoleAccountPage.render(account))
        }
    }

    static func notPublished() -> Response {
        html(ConsoleHTML.page(title: "Starting", body: "<h1>The engine has not published its state yet</h1>"),
             status: .serviceUnavailable)
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
