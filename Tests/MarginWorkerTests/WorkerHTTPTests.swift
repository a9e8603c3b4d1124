import Foundation
import Hummingbird
import HummingbirdTesting
import KafkaClient
import Logging
import MarginCore
import MarginSchema
import Testing
import TestSupport
@testable import MarginWorker

@Suite("Worker HTTP API")
struct WorkerHTTPTests {
    /// An engine fed directly (no broker): reference data, one restored shard, two accounts.
    static func engine(token: String? = nil, parameters: RiskParameters? = nil) async throws -> (MarginEngine, WorkerConfiguration) {
        var configuration = WorkerConfiguration()
        configuration.bearerToken = token
        if let parameters { configuration.paramsID = parameters.id }
        configuration.maxRequestBytes = 4_096
        let engine = await EngineFixture.engine(configuration: configuration, parameters: parameters, accounts: TestWorld.accounts(btc: 1, eth: 1))
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
        let app = buildApplication(engine: engine, configuration: configuration, logger: WorkerHarness.logger)
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
        let app = buildApplication(engine: engine, configuration: configuration, logger: WorkerHarness.logger)
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
        let app = buildApplication(engine: engine, configuration: configuration, logger: WorkerHarness.logger)
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
        let app = buildApplication(engine: engine, configuration: configuration, logger: WorkerHarness.logger)
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

    @Test("Configuration: YAML, environment, validation and redaction")
    func configuration() throws {
        var configuration = try WorkerConfiguration.load(yaml: """
        brokers: "k1:9092,k2:9092"
        coalesce_window_ms: 25
        bearer_token: hunter2
        kafka:
          security.protocol: SASL_SSL
          sasl.password: topsecret
        liquidation:
          target_buffer: 0.2
        """)
        #expect(configuration.brokers == "k1:9092,k2:9092" && configuration.coalesceWindowMs == 25)
        #expect(configuration.liquidation.targetBuffer == 0.2)
        try configuration.applyEnvironment(["MARGIN_ENGINE_HTTP_PORT": "9999", "MARGIN_ENGINE_KAFKA_SASL_USERNAME": "svc"])
        #expect(configuration.httpPort == 9999 && configuration.kafka["sasl.username"] == "svc")
        try configuration.validate()
        let text = configuration.redactedDescription
        #expect(!text.contains("topsecret") && !text.contains("hunter2") && text.contains("SASL_SSL"))
        #expect(throws: ConfigurationError.self) { try configuration.set("coalesce_window_ms", "soon") }
        #expect(throws: ConfigurationError.self) { try configuration.set("no_such_setting", "1") }
        #expect(throws: ConfigurationError.self) { _ = try WorkerConfiguration.load(yaml: "brokerz: x") }
        configuration.publishThreshold = -1
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }
}
