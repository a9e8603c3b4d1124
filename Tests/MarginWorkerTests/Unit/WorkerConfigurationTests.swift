import EngineTestSupport
import MarginCore
import MarginEngineCore
import Testing
@testable import MarginWorker

/// Settings parsed once at load, typed, and refused with the key named when they cannot work.
@Suite("Worker configuration")
struct WorkerConfigurationTests {
    @Test("liquidation.* and topics.* work from YAML, environment and --set, in that order")
    func nestedSettingsEverywhere() throws {
        var configuration = try WorkerConfiguration.load(yaml: """
        liquidation:
          target_buffer: 0.2
          depth_fraction: 0.4
        topics:
          results: yaml.results
        """)
        #expect(configuration.liquidation.targetBuffer == 0.2 && configuration.liquidation.depthFraction == 0.4)
        #expect(configuration.topics.results == "yaml.results" && configuration.topics.market == TopicNames().market)
        try configuration.applyEnvironment([
            "MARGIN_ENGINE_LIQUIDATION_TARGET_BUFFER": "0.25",
            "MARGIN_ENGINE_LIQUIDATION_ENABLED": "false",
            "MARGIN_ENGINE_LIQUIDATION_BUDGET_WINDOW_MS": "2000",
            "MARGIN_ENGINE_TOPICS_RESULTS": "env.results",
            "MARGIN_ENGINE_TOPICS_ACCOUNTS": "env.accounts",
        ])
        #expect(configuration.liquidation.targetBuffer == 0.25 && !configuration.liquidation.enabled)
        #expect(configuration.liquidation.budgetWindow == .seconds(2) && configuration.liquidation.depthFraction == 0.4)
        #expect(configuration.topics.results == "env.results" && configuration.topics.accounts == "env.accounts")
        try configuration.set("liquidation.target_buffer", "0.3")
        try configuration.set("liquidation.deadline_ms", "45000")
        try configuration.set("topics.results", "flag.results")
        try configuration.set("topics.params", "flag.params")
        #expect(configuration.liquidation.targetBuffer == 0.3 && configuration.liquidation.deadline == .seconds(45))
        #expect(configuration.topics.results == "flag.results" && configuration.topics.params == "flag.params")
        try configuration.validate()
        // Bad values and unknown keys name the setting.
        #expect(throws: ConfigurationError.self) { try configuration.set("liquidation.target_buffer", "lots") }
        #expect(throws: ConfigurationError.self) { try configuration.set("liquidation.no_such", "1") }
        #expect(throws: ConfigurationError.self) { try configuration.applyEnvironment(["MARGIN_ENGINE_LIQUIDATION_NO_SUCH": "1"]) }
        #expect(throws: ConfigurationError.self) { _ = try WorkerConfiguration.load(yaml: "liquidation:\n  target_bufer: 0.2\n") }
    }

    @Test("liquidation.no_book_cap is a setting from YAML, environment and flags; negative is refused")
    func noBookCapSetting() throws {
        var configuration = WorkerConfiguration()
        try configuration.set("liquidation.no_book_cap", "3.5")
        #expect(configuration.liquidation.noBookCap == 3.5)
        try configuration.set("liquidation.no_book_cap", "-1")
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        try configuration.set("restore_timeout_ms", "0")
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }

    @Test("max_clock_skew_ms is a setting kept as a Duration; negative is refused")
    func clockSkewSetting() throws {
        var configuration = WorkerConfiguration()
        try configuration.set("max_clock_skew_ms", "0")
        #expect(configuration.engine.maxClockSkew == .zero)
        try configuration.set("max_clock_skew_ms", "-1")
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        #expect(throws: ConfigurationError.self) { try configuration.set("max_clock_skew_ms", "1.5") }
    }

    @Test("A non-loopback http_host needs bearer_token or insecure_http; loopback never does")
    func httpExposure() throws {
        var configuration = WorkerConfiguration()
        for host in ["127.0.0.1", "127.0.0.2", "localhost", "::1"] {
            configuration.httpHost = host
            try configuration.validateHTTPExposure()
        }
        configuration.httpHost = "0.0.0.0"
        #expect(throws: ConfigurationError.self) { try configuration.validateHTTPExposure() }
        configuration.bearerToken = "s3cret"
        try configuration.validateHTTPExposure()
        configuration.bearerToken = nil
        try configuration.set("insecure_http", "true")
        try configuration.validateHTTPExposure()
        try configuration.applyEnvironment(["MARGIN_ENGINE_INSECURE_HTTP": "false"])
        #expect(throws: ConfigurationError.self) { try configuration.validateHTTPExposure() }
    }

    @Test("Bounds are settings")
    func boundsAreSettings() throws {
        var configuration = WorkerConfiguration()
        try configuration.set("max_quantity", "1000")
        #expect(configuration.inputBounds.maxQuantity == 1_000)
        let account = Account(id: "a", version: 1, positions: [Position(instrument: "BTC-PERPETUAL", quantity: 5_000, averageEntryPrice: 1)])
        #expect(throws: MarginError.self) { try account.validate(instruments: InstrumentCatalog(TestWorld.instruments), bounds: configuration.inputBounds) }
        configuration.engine.inputBounds.maxPrice = 0
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }

    @Test("Choices are enums: market_results, output_format and the calibration's model, measure and APC are refused when unknown")
    func choices() throws {
        var configuration = WorkerConfiguration()
        try configuration.set("market_results", "summary")
        #expect(configuration.engine.marketResults == .summary)
        try configuration.set("calibration.volatility_model", "gjr_garch")
        #expect(configuration.calibration.model.volatilityModel == .gjrGarch)
        try configuration.set("calibration.apc", "buffer+floor")
        #expect(configuration.calibration.model.apc == .init(buffer: true, stressWeight: false, floor: true))
        try configuration.set("calibration.price_range_floor", "BTC=0.06,*=0.05")
        #expect(configuration.calibration.model.priceRangeFloor == ["BTC": 0.06, "*": 0.05])
        try configuration.set("calibration.fhs_weight", "0.3")
        #expect(configuration.calibration.model.combination == .weighted(0.3))
        for (key, value) in [("market_results", "some"), ("output_format", "xml"), ("calibration.volatility_model", "garch"),
                             ("calibration.measure", "cvar"), ("calibration.apc", "maybe"), ("calibration.fhs_weight", "2")] {
            #expect(throws: ConfigurationError.self, "\(key)=\(value)") { try configuration.set(key, value) }
        }
        // One source of defaults: the library's.
        #expect(WorkerConfiguration().calibration.model == RiskModelSettings())
        #expect(WorkerConfiguration.defaultText("calibration.lambda") == String(RiskModelSettings().lambda))
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
        #expect(configuration.brokers == "k1:9092,k2:9092" && configuration.coalesceWindow == .milliseconds(25))
        #expect(configuration.liquidation.targetBuffer == 0.2)
        try configuration.applyEnvironment(["MARGIN_ENGINE_HTTP_PORT": "9999", "MARGIN_ENGINE_KAFKA_SASL_USERNAME": "svc"])
        #expect(configuration.httpPort == 9999 && configuration.kafka["sasl.username"] == "svc")
        try configuration.validate()
        let text = configuration.redactedDescription
        #expect(!text.contains("topsecret") && !text.contains("hunter2") && text.contains("SASL_SSL"))
        #expect(throws: ConfigurationError.self) { try configuration.set("coalesce_window_ms", "soon") }
        #expect(throws: ConfigurationError.self) { try configuration.set("no_such_setting", "1") }
        #expect(throws: ConfigurationError.self) { _ = try WorkerConfiguration.load(yaml: "brokerz: x") }
        configuration.engine.publishThreshold = -1
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }
}
