import EngineTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import MarginCore
import MarginEngineCore
import MarginSchema
import MarginWorker
import Testing
@testable import MarginHTTP

@Suite("Worker HTTP API")
struct WorkerHTTPTests {
    /// An engine fed directly (no broker): reference data, one restored shard, two accounts.
    static func engine(token: String? = nil, parameters: RiskParameters? = nil) async throws -> (MarginEngine, WorkerConfiguration) {
        _ = TestMetrics.registry // before the engine records anything
        var configuration = WorkerConfiguration()
        configuration.bearerToken = token
        if let parameters { configuration.paramsID = parameters.id }
        configuration.maxRequestBytes = 4_096
        let engine = await EngineFixture.engine(settings: configuration.engine, parameters: parameters, accounts: TestWorld.accounts(btc: 1, eth: 1))
        return (engine, configuration)
    }

    @Test("With a calibrated parameter set, held accounts and the what-if carry the FHS component")
    func historicalSimulationInTheWorker() async throws {
        var parameters = try RiskPresets.load("deribit-like")
        parameters.id = "calibrated"
        var generator = SeededGenerator(seed: 3)
        var returns: [String: [Double]] = ["BTC": [], "ETH": []]
        for _ in 0..<300 {
            let common = Double.random(in: -0.3...0.3, using: &generator)
            returns["BTC"]!.append(common)
            returns["ETH"]!.append(1.1 * common)
        }
        parameters.historicalSimulation = HistoricalScenarioSet(labels: (0..<300).map { "d\($0)" }, logReturns: returns)
        parameters.decorrelation = 0.5
        let (engine, configuration) = try await Self.engine(parameters: parameters)
        let app = buildApplication(engine: engine, configuration: configuration, registry: TestMetrics.registry, logger: EngineFixture.logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/accounts/e0", method: .get) { response in
                #expect(response.status == .ok)
                let result = try SchemaCoding.decode(Margin_V1_MarginResult.self, from: Data(response.body.readableBytesView), format: .json)
                #expect(result.parameterSetID == "calibrated")
                #expect(result.riskModel.hasHistorical && result.riskModel.historical.scenarioCount == 300)
            }
            let whatIf = #"{"account_id":"w","positions":[{"instrument":"ETH-PERPETUAL","quantity":20,"average_entry_price":3000}],"balances":{"USDC":1000}}"#
            try await client.execute(uri: "/v1/what-if", method: .post, body: ByteBuffer(string: whatIf)) { response in
                #expect(response.status == .ok)
                let result = try SchemaCoding.decode(Margin_V1_MarginResult.self, from: Data(response.body.readableBytesView), format: .json)
                let historical = result.riskModel.historical
                #expect(historical.worstScenarios.count == 10 && historical.expectedShortfall > 0)
                // ±30 % joint moves exceed the grid's ±16 %: the historical component binds.
                #expect(result.riskModel.binding == "historical")
            }
        }
    }

    @Test("health, ready, metrics, account lookup and what-if")
    func routes() async throws {
        let (engine, configuration) = try await Self.engine()
        let app = buildApplication(engine: engine, configuration: configuration, registry: TestMetrics.registry, logger: EngineFixture.logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"ready\":true"))
            }
            try await client.execute(uri: "/v1/accounts/e0", method: .get) { response in
                #expect(response.status == .ok)
                let result = try SchemaCoding.decode(Margin_V1_MarginResult.self, from: Data(response.body.readableBytesView), format: .json)
                #expect(result.accountID == "e0" && result.maintenanceRequirement > 0)
                #expect(!result.riskUnits.isEmpty)
            }
            try await client.execute(uri: "/v1/accounts/nobody", method: .get) { response in
                #expect(response.status == .notFound)
            }
            let whatIf = #"{"account_id":"w","positions":[{"instrument":"ETH-PERPETUAL","quantity":2,"average_entry_price":3000}],"balances":{"USDC":1000}}"#
            try await client.execute(uri: "/v1/what-if", method: .post, body: ByteBuffer(string: whatIf)) { response in
                #expect(response.status == .ok)
                let result = try SchemaCoding.decode(Margin_V1_MarginResult.self, from: Data(response.body.readableBytesView), format: .json)
                #expect(result.accountID == "w" && result.maintenanceRequirement > 0)
            }
            try await client.execute(uri: "/v1/what-if", method: .post, body: ByteBuffer(string: #"{"account_id":"w","positions":[{"instrument":"NOPE","quantity":1}]}"#)) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("unknown instrument NOPE"))
            }
            try await client.execute(uri: "/v1/what-if", method: .post, body: ByteBuffer(string: "{not json")) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/v1/what-if", method: .post, body: ByteBuffer(string: String(repeating: " ", count: 10_000))) { response in
                #expect(response.status == .contentTooLarge)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.contains("# TYPE margin_"))
            }
        }
    }

    @Test("Pre-trade: a held account plus one order — fits or not, the order's IM; bad orders are 400, unknown accounts 404")
    func preTrade() async throws {
        let (engine, configuration) = try await Self.engine()
        let app = buildApplication(engine: engine, configuration: configuration, registry: TestMetrics.registry, logger: EngineFixture.logger)
        @Sendable func order(_ quantity: Double) -> ByteBuffer {
            ByteBuffer(string: #"{"order_id":"o1","instrument":"ETH-PERPETUAL","side":"ORDER_SIDE_BUY","quantity":\#(quantity),"limit_price":3000}"#)
        }
        try await app.test(.router) { client in
            var small = Margin_V1_PreTradeCheck()
            try await client.execute(uri: "/v1/accounts/e0/pre-trade", method: .post, body: order(0.1)) { response in
                #expect(response.status == .ok)
                small = try SchemaCoding.decode(Margin_V1_PreTradeCheck.self, from: Data(response.body.readableBytesView), format: .json)
            }
            #expect(small.accountID == "e0" && small.fits && small.orderInitialMargin > 0)
            #expect(small.after.initialRequirement > small.before.initialRequirement)
            #expect(small.after.maintenanceRequirement == small.before.maintenanceRequirement)
            #expect(small.after.accountContingencies.contains { $0.name == "open_orders_margin" })
            try await client.execute(uri: "/v1/accounts/e0/pre-trade", method: .post, body: order(100_000)) { response in
                #expect(response.status == .ok)
                let check = try SchemaCoding.decode(Margin_V1_PreTradeCheck.self, from: Data(response.body.readableBytesView), format: .json)
                #expect(!check.fits)
            }
            try await client.execute(uri: "/v1/accounts/e0/pre-trade", method: .post, body: order(-1)) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("open_orders[0].quantity"))
            }
            try await client.execute(uri: "/v1/accounts/e0/pre-trade", method: .post,
                                     body: ByteBuffer(string: #"{"instrument":"ETH-PERPETUAL","quantity":1,"limit_price":3000}"#)) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("order.side"))
            }
            try await client.execute(uri: "/v1/accounts/nobody/pre-trade", method: .post, body: order(1)) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test("The /v1 routes require the bearer token when one is configured")
    func bearerToken() async throws {
        let (engine, configuration) = try await Self.engine(token: "s3cret")
        let app = buildApplication(engine: engine, configuration: configuration, registry: TestMetrics.registry, logger: EngineFixture.logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/accounts/e0", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/accounts/e0", method: .get, headers: [.authorization: "Bearer s3cret"]) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test("GET /v1/accounts/{id} percent-decodes the id")
    func percentEncodedAccountID() async throws {
        let (engine, configuration) = try await Self.engine()
        let id = "acct x/1"
        let account = Account(id: id, version: 1, balances: ["USDC": 20_000],
                              positions: [Position(instrument: "ETH-PERPETUAL", quantity: 3, averageEntryPrice: 3_000)])
        await engine.handleAccounts(EngineFixture.account(account, offset: 100))
        #expect(await engine.currentResult(accountID: id) != nil)
        // HTTP reads the snapshot published at the end of the window that stored it.
        await engine.tick()
        let app = buildApplication(engine: engine, configuration: configuration, registry: TestMetrics.registry, logger: EngineFixture.logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/accounts/acct%20x%2F1", method: .get) { response in
                #expect(response.status == .ok)
                let result = try SchemaCoding.decode(Margin_V1_MarginResult.self, from: Data(response.body.readableBytesView), format: .json)
                #expect(result.accountID == id)
            }
            // Encoding an ordinary character changes nothing.
            try await client.execute(uri: "/v1/accounts/%65%30", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/accounts/acct%20y%2F1", method: .get) { response in
                #expect(response.status == .notFound)
                let body = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                #expect((body?["error"] as? String)?.contains("acct y/1") == true, "\(String(describing: body))")
            }
        }
    }

    @Test("The what-if answers 400 naming the field for an extreme quantity")
    func whatIfRefusesExtremeInput() async throws {
        let (engine, configuration) = try await Self.engine()
        let app = buildApplication(engine: engine, configuration: configuration, registry: TestMetrics.registry, logger: EngineFixture.logger)
        try await app.test(.router) { client in
            for body in [#"{"account_id":"w","positions":[{"instrument":"ETH-PERPETUAL","quantity":1e308,"average_entry_price":3000}]}"#,
                         #"{"account_id":"w","positions":[{"instrument":"ETH-PERPETUAL","quantity":-1e308,"average_entry_price":3000}]}"#] {
                try await client.execute(uri: "/v1/what-if", method: .post, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .badRequest)
                    #expect(String(buffer: response.body).contains("quantity"))
                    #expect(!String(buffer: response.body).contains("Infinity"))
                }
            }
        }
    }

    @Test("A liquidatable account waiting for depth says why: state waiting, reason no_depth, the instruments in the detail")
    func waitingReason() async throws {
        var eth = TestWorld.eth(index: 2_600, at: EngineFixture.now)
        eth.orderBooks = [:]
        let account = Account(id: "big", version: 1, balances: ["USDC": 200_000],
                              positions: [Position(instrument: "ETH-PERPETUAL", quantity: 300, averageEntryPrice: 3_000)])
        let engine = await EngineFixture.engine(markets: [TestWorld.btc(index: 60_000, at: EngineFixture.now), eth, TestWorld.usdc(at: EngineFixture.now)],
                                                accounts: [account])
        let app = buildApplication(engine: engine, configuration: WorkerConfiguration(), registry: TestMetrics.registry, logger: EngineFixture.logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/accounts/big", method: .get) { response in
                #expect(response.status == .ok)
                let result = try SchemaCoding.decode(Margin_V1_MarginResult.self, from: Data(response.body.readableBytesView), format: .json)
                #expect(result.health == .liquidatable)
                #expect(result.liquidation.state == "waiting" && result.liquidation.reason == "no_depth")
                #expect(result.liquidation.detail.contains("ETH-PERPETUAL"))
            }
        }
    }

    @Test("The bearer token is compared in constant time over the longer of the two lengths")
    func tokenComparison() {
        typealias Middleware = BearerTokenMiddleware<BasicRequestContext>
        #expect(Middleware.constantTimeEqual("Bearer s3cret", "Bearer s3cret"))
        #expect(!Middleware.constantTimeEqual("Bearer s3cre", "Bearer s3cret"))
        #expect(!Middleware.constantTimeEqual("Bearer s3cret!", "Bearer s3cret"))
        #expect(!Middleware.constantTimeEqual("", "Bearer s3cret"))
        #expect(!Middleware.constantTimeEqual("Bearer s3creT", "Bearer s3cret"))
    }
}
