import EngineTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import MarginCore
import MarginEngineCore
import MarginWorker
import Metrics
import Testing
@testable import MarginHTTP

@Suite("Risk console and metrics endpoints")
struct RiskConsoleTests {
    /// The HTTP tests' engine plus one account near liquidation whose id needs escaping.
    static let riskyID = "x<&>/1"

    static func engineWithRiskyAccount(token: String? = nil) async throws -> (MarginEngine, WorkerConfiguration) {
        let (engine, configuration) = try await WorkerHTTPTests.engine(token: token)
        let risky = Account(id: riskyID, version: 1, balances: ["USDC": 12_000],
                            positions: [Position(instrument: "BTC-C-60000", quantity: -2)])
        await engine.handleAccounts(EngineFixture.account(risky, offset: 10))
        await engine.tick()
        return (engine, configuration)
    }

    @Test("The overview query: partitions, markets, health counts, nearest liquidation first")
    func overviewQuery() async throws {
        let (engine, _) = try await Self.engineWithRiskyAccount()
        let overview = await engine.consoleOverview(group: "workers", nearestCount: 20)
        #expect(overview.partitions.map(\.partition) == [0] && overview.partitions[0].restored && overview.partitions[0].accounts == 3)
        #expect(overview.markets.map(\.underlying) == ["BTC", "ETH", "USDC"] && overview.markets.allSatisfy { !$0.stale })
        #expect(overview.accounts == 3 && overview.unmargined == 0)
        #expect(overview.nearest.count == 3)
        #expect(overview.nearest.first?.id == Self.riskyID)
        #expect(overview.nearest.first.map { $0.health == .liquidatable || $0.health == .bankrupt } == true)
        #expect(zip(overview.nearest, overview.nearest.dropFirst()).allSatisfy { $0.cushion <= $1.cushion })
        for state in HealthState.allCases {
            #expect(overview.accountsByHealth[state] == overview.nearest.filter { $0.health == state }.count, "\(state)")
        }
        #expect(await engine.consoleOverview(group: "workers", nearestCount: 1).nearest.map(\.id) == [Self.riskyID])
        #expect(await engine.consoleAccount(id: "nobody") == nil)
    }

    @Test("GET / renders the instance, partitions, markets, health chart and the nearest accounts with escaped links")
    func overviewPage() async throws {
        let (engine, configuration) = try await Self.engineWithRiskyAccount()
        let app = buildApplication(engine: engine, configuration: configuration, registry: TestMetrics.registry, logger: EngineFixture.logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                let page = String(buffer: response.body)
                #expect(page.contains("<table id=\"partitions\">") && page.contains("<table id=\"markets\">"))
                #expect(page.contains("<svg class=\"chart\" id=\"health-chart\""))
                #expect(page.contains(">BTC</td>") && page.contains(">60,000.00</td>"))
                // Escaped text and a percent-encoded link; no raw markup from the id.
                #expect(page.contains("href=\"/accounts/x%3C%26%3E%2F1\">x&lt;&amp;&gt;/1</a>"))
                #expect(!page.contains("x<&>"))
                let nearest = page.components(separatedBy: "<table id=\"nearest\">").last ?? ""
                let risky = nearest.range(of: "x&lt;&amp;&gt;/1")?.lowerBound, healthy = nearest.range(of: ">b0</a>")?.lowerBound
                #expect(risky != nil && healthy != nil && risky! < healthy!)
                #expect(!page.contains("<script") && !page.contains("http://") && !page.contains("https://"))
            }
        }
    }

    @Test("GET /accounts/{id} renders the scenario chart with one binding bar, contributions and equity parts")
    func accountPage() async throws {
        let (engine, configuration) = try await Self.engineWithRiskyAccount()
        let app = buildApplication(engine: engine, configuration: configuration, registry: TestMetrics.registry, logger: EngineFixture.logger)
        let result = try #require(await engine.consoleAccount(id: "b0")?.result)
        let unit = try #require(result.riskUnits.first)
        try await app.test(.router) { client in
            try await client.execute(uri: "/accounts/b0", method: .get) { response in
                #expect(response.status == .ok)
                let page = String(buffer: response.body)
                #expect(page.contains("<svg class=\"chart scenario-chart\" id=\"scenarios-BTC\""))
                #expect(page.components(separatedBy: "class=\"bar binding\"").count == 2)
                #expect(page.contains("binding: \(ConsoleHTML.escape(unit.bindingLabel))"))
                // One bar per grid scenario (+ the basis contingency when present).
                let bars = page.components(separatedBy: "<rect class=\"bar").count - 1
                #expect(bars == unit.scenarioPnLs.count + (unit.basisContingency != 0 ? 1 : 0))
                #expect(page.contains(">BTC-C-60000</td>") && page.contains(">BTC-PERPETUAL</td>"))
                #expect(page.contains("<table id=\"equity-parts\">") && page.contains(">USDC</td>"))
                #expect(page.contains(ConsoleHTML.amount(result.maintenanceRequirement)))
            }
            try await client.execute(uri: "/accounts/x%3C%26%3E%2F1", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("<h1>Account x&lt;&amp;&gt;/1</h1>"))
            }
            try await client.execute(uri: "/accounts/nobody", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test("The console follows the bearer-token rule of /v1; /health and /metrics stay open")
    func consoleToken() async throws {
        let (engine, configuration) = try await WorkerHTTPTests.engine(token: "s3cret")
        let app = buildApplication(engine: engine, configuration: configuration, registry: TestMetrics.registry, logger: EngineFixture.logger)
        try await app.test(.router) { client in
            for uri in ["/", "/accounts/b0"] {
                try await client.execute(uri: uri, method: .get) { response in #expect(response.status == .unauthorized) }
                try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer s3cret"]) { response in
                    #expect(response.status == .ok)
                }
                try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer wrong"]) { response in
                    #expect(response.status == .unauthorized)
                }
            }
            try await client.execute(uri: "/metrics", method: .get) { response in #expect(response.status == .ok) }
        }
    }

    @Test("/metrics records the engine's state gauges at scrape time")
    func statusGauges() async throws {
        let (engine, configuration) = try await WorkerHTTPTests.engine()
        let app = buildApplication(engine: engine, configuration: configuration, registry: TestMetrics.registry, logger: EngineFixture.logger)
        let instance = configuration.instanceID
        try await app.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                for (name, value) in [("margin_shards_assigned", "1"), ("margin_shards_restored", "1"), ("margin_reference_restored", "1"), ("margin_ready", "1")] {
                    #expect(text.contains("\(name){instance=\"\(instance)\"} \(value)"), "\(name)")
                }
                #expect(text.contains("# TYPE margin_remargin_latency_seconds histogram"))
                #expect(text.contains("margin_remargin_latency_seconds_bucket{instance=\"\(instance)\",le=\"0.00025\"}"))
                #expect(text.contains("# TYPE margin_tick_phase_seconds histogram"))
                #expect(text.contains("margin_tick_phase_seconds_bucket{instance=\"\(instance)\",phase=\"books\",le=\"0.00025\"}"))
            }
        }
    }

    @Test("The calibrator's listener: /health and /metrics from the same registry")
    func metricsApplication() async throws {
        let app = buildMetricsApplication(host: "127.0.0.1", port: 0, registry: TestMetrics.registry, logger: EngineFixture.logger)
        Gauge(label: "margin_forecast_vol", dimensions: [("underlying", "CONSOLE-TEST")]).record(0.5)
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in #expect(response.status == .ok) }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("margin_forecast_vol{underlying=\"CONSOLE-TEST\"} 0.5"))
            }
            try await client.execute(uri: "/", method: .get) { response in #expect(response.status == .notFound) }
        }
    }

    @Test("HTML escaping, path segments, amounts and ages")
    func formatting() {
        #expect(ConsoleHTML.escape(#"<a href="x">&'"#) == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;")
        #expect(ConsoleHTML.pathSegment("acct x/1") == "acct%20x%2F1")
        #expect(ConsoleHTML.amount(1_234_567.891) == "1,234,567.89")
        #expect(ConsoleHTML.amount(-1_500) == "−1,500.00")
        #expect(ConsoleHTML.amount(-0.001) == "0.00")
        #expect(ConsoleHTML.amount(999, decimals: 0) == "999" && ConsoleHTML.amount(1_000, decimals: 0) == "1,000")
        #expect(ConsoleHTML.amount(.infinity) == "∞" && ConsoleHTML.amount(.nan) == "n/a")
        #expect(ConsoleHTML.percent(-0.153) == "−15.3 %")
        #expect(ConsoleHTML.age(850) == "850 ms" && ConsoleHTML.age(12_300) == "12.3 s" && ConsoleHTML.age(245_000) == "4 min 5 s")
        #expect(ConsoleHTML.time(1_589_443_200_000) == "2020-05-14 08:00:00Z")
        #expect(ConsoleHTML.clock(1_589_443_200_000) == "<span title=\"2020-05-14 08:00:00Z\">08:00:00Z</span>")
        #expect(ConsoleHTML.milliseconds(0.012) == "12 µs" && ConsoleHTML.milliseconds(3.5) == "3.50 ms" && ConsoleHTML.milliseconds(1_250) == "1.25 s")
    }
}
