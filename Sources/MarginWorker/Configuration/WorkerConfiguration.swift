import Foundation
import KafkaClient
import MarginCore
import MarginEngineCore
import MarginSchema

/// Everything `margin-engine run` is configured with: from a YAML file, then environment
/// variables (`MARGIN_ENGINE_<KEY>`), then flags. Durations are written in milliseconds (`_ms` keys) and
/// kept as `Duration`; choices are enums. Everything is parsed once, at load.
///
/// Every setting is listed once, in ``settings``: the YAML loader, the environment and
/// `--set key=value` all go through that table, so a key that works in one works in all three.
public struct WorkerConfiguration: Sendable, Hashable {
    /// Kafka bootstrap servers.
    public var brokers = "127.0.0.1:9092"
    /// Consumer group of the accounts topic (all instances share it).
    public var group = "margin-engine"
    public var topics = TopicNames()
    /// The engine's settings (parameter set, staleness, publication, liquidation, input bounds).
    public var engine = EngineSettings()
    /// Market updates are coalesced per window: a burst of ticks costs one re-margin pass.
    public var coalesceWindow: Duration = .milliseconds(50)
    /// Most consumer events handed to the engine in one visit: the adapters pass on what their
    /// consumer has buffered, so a restore pays one hop to the engine's thread per batch rather than
    /// per record, and a tick waits for at most one batch.
    public var inputBatchLimit = 256
    /// Outputs and consumed offsets in one Kafka transaction per batch.
    public var transactional = true
    /// Output encoding.
    public var outputFormat = SchemaCoding.Format.protobuf
    /// HTTP listener (loopback unless configured otherwise); 0 picks a free port.
    public var httpHost = "127.0.0.1"
    public var httpPort = 8080
    /// When set, `/v1` routes require `Authorization: Bearer <token>`.
    public var bearerToken: String?
    /// Serve `/v1` and the console on a non-loopback `http_host` without `bearer_token` (refused
    /// otherwise: ``validateHTTPExposure()``).
    public var insecureHTTP = false
    /// Largest accepted HTTP request body (bytes).
    public var maxRequestBytes = 1_048_576
    /// What-if requests computed at once (`POST /v1/what-if`); more are answered 429.
    public var whatIfConcurrency = 4
    /// A connection with no request in progress (idle, or its request head still incomplete) is
    /// closed after this long: held or half-sent connections cannot pile up.
    public var httpIdleTimeout: Duration = .seconds(10)
    /// Most HTTP connections open at once (lowered to leave 128 of the process's open-file limit
    /// to Kafka and the runtime); more are closed as they arrive.
    public var httpMaxConnections = 512
    /// Dynamic risk model settings (the calibrator, `calibrate` and `backtest`).
    public var calibration = CalibrationSettings()
    /// Extra librdkafka properties for every client (SASL/SSL, …); keys without the `kafka.` prefix.
    public var kafka: [String: String] = [:]
    /// Consumer group session timeout (fast test-friendly consumer timings on the embedded broker).
    public var sessionTimeout: Duration = .seconds(10)

    /// This instance's id (part of its transactional id and metrics; the engine's); defaults to the
    /// host name.
    public var instanceID: String {
        get { engine.instanceID }
        set { engine.instanceID = newValue }
    }

    /// Risk-parameter set used (the engine's; from the params topic, else the shipped preset).
    public var paramsID: String {
        get { engine.paramsID }
        set { engine.paramsID = newValue }
    }

    /// Liquidation planner settings (the engine's).
    public var liquidation: LiquidationSettings {
        get { engine.liquidation }
        set { engine.liquidation = newValue }
    }

    public init() { engine.instanceID = ProcessInfo.processInfo.hostName }

    /// Every setting by its YAML key (sections as dotted prefixes: `liquidation.target_buffer`,
    /// `topics.results`). The YAML file, `MARGIN_ENGINE_<KEY>` variables and `--set key=value` all
    /// use this one table; `kafka.<property>` passes librdkafka properties through.
    public static let settings: [WorkerSetting] = [
        .text("brokers", \.brokers),
        .text("group", \.group),
        .text("instance_id", \.engine.instanceID),
        .text("topics.instruments", \.topics.instruments),
        .text("topics.market", \.topics.market),
        .text("topics.accounts", \.topics.accounts),
        .text("topics.params", \.topics.params),
        .text("topics.results", \.topics.results),
        .text("topics.liquidations", \.topics.liquidations),
        .text("topics.liquidation_state", \.topics.liquidationState, aliases: ["topics.liquidationState"]),
        .text("topics.dead_letter", \.topics.deadLetter, aliases: ["topics.deadLetter"]),
        .text("params_id", \.engine.paramsID),
        .milliseconds("coalesce_window_ms", \.coalesceWindow),
        .integer("input_batch_limit", \.inputBatchLimit),
        .milliseconds("stale_after_ms", \.engine.staleAfter),
        .milliseconds("max_clock_skew_ms", \.engine.maxClockSkew),
        .milliseconds("restore_timeout_ms", \.engine.restoreTimeout),
        .milliseconds("consumed_position_interval_ms", \.engine.consumedPositionInterval),
        .number("max_quantity", \.engine.inputBounds.maxQuantity),
        .number("max_balance", \.engine.inputBounds.maxBalance),
        .number("max_price", \.engine.inputBounds.maxPrice),
        .integer("max_positions", \.engine.inputBounds.maxPositions),
        .integer("max_balances", \.engine.inputBounds.maxBalances),
        .integer("max_open_orders", \.engine.inputBounds.maxOpenOrders),
        .number("minimum_confidence", \.engine.minimumConfidence),
        .number("publish_threshold", \.engine.publishThreshold),
        .choice("market_results", \.engine.marketResults),
        .milliseconds("refresh_interval_ms", \.engine.refreshInterval),
        .flag("transactional", \.transactional),
        .choice("output_format", \.outputFormat),
        .text("http_host", \.httpHost),
        .integer("http_port", \.httpPort),
        .optionalText("bearer_token", \.bearerToken),
        .flag("insecure_http", \.insecureHTTP),
        .integer("max_request_bytes", \.maxRequestBytes),
        .integer("what_if_concurrency", \.whatIfConcurrency),
        .milliseconds("http_idle_timeout_ms", \.httpIdleTimeout),
        .integer("http_max_connections", \.httpMaxConnections),
        .flag("liquidation.enabled", \.engine.liquidation.enabled),
        .number("liquidation.target_buffer", \.engine.liquidation.targetBuffer),
        .number("liquidation.close_out_equity", \.engine.liquidation.closeOutEquity),
        .number("liquidation.depth_fraction", \.engine.liquidation.depthFraction),
        .number("liquidation.penalty_rate", \.engine.liquidation.penaltyRate),
        .number("liquidation.impact_coefficient", \.engine.liquidation.impactCoefficient),
        .number("liquidation.budget_fraction", \.engine.liquidation.budgetFraction),
        .milliseconds("liquidation.budget_window_ms", \.engine.liquidation.budgetWindow),
        .number("liquidation.no_book_cap", \.engine.liquidation.noBookCap),
        .milliseconds("liquidation.deadline_ms", \.engine.liquidation.deadline),
        .milliseconds("session_timeout_ms", \.sessionTimeout),
        .text("calibration.prices", \.calibration.prices),
        .text("calibration.base", \.calibration.base),
        .parsed("calibration.apc", \.calibration.model.apc, expected: "buffer, stress-weight, floor, none or several joined by +",
                { try? .init(label: $0) }, render: \.label),
        .number("calibration.lambda", \.calibration.model.lambda),
        .choice("calibration.volatility_model", \.calibration.model.volatilityModel),
        .parsed("calibration.max_revolatilisation", \.calibration.model.maxRevolatilisation, expected: "a number ≥ 1, or 0 for none",
                { Double($0).flatMap { $0.isFinite ? ($0 == 0 ? .some(nil) : .some($0)) : nil } }, render: { String($0 ?? 0) }),
        .integer("calibration.fit_window_days", \.calibration.model.fitWindowDays),
        .integer("calibration.refit_days", \.calibration.model.refitDays),
        .integer("calibration.seed_returns", \.calibration.model.seedReturns),
        .integer("calibration.horizon_days", \.calibration.model.horizonDays),
        .number("calibration.confidence", \.calibration.model.confidence),
        .integer("calibration.lookback_days", \.calibration.model.lookbackDays),
        .number("calibration.buffer_fraction", \.calibration.model.bufferFraction),
        .number("calibration.stress_weight", \.calibration.model.stressWeight),
        .integer("calibration.stress_window_days", \.calibration.model.stressWindowDays),
        .integer("calibration.floor_lookback_days", \.calibration.model.floorLookbackDays),
        .choice("calibration.measure", \.calibration.model.measure),
        .choice("calibration.vol_treatment", \.calibration.model.volatilityTreatment),
        .parsed("calibration.fhs_weight", \.calibration.model.combination, expected: "a number in [0, 1]",
                { Double($0).flatMap { (0...1).contains($0) ? .weighted($0) : nil } },
                render: { if case .weighted(let weight) = $0 { String(weight) } else { nil } }),
        .number("calibration.decorrelation", \.calibration.model.decorrelation),
        .number("calibration.max_step", \.calibration.model.maxStep),
        .parsed("calibration.price_range_floor", \.calibration.model.priceRangeFloor, expected: "0.05 or BTC=0.06,ETH=0.08",
                { try? RiskModelSettings.priceRangeFloor(label: $0) }, render: { RiskModelSettings.priceRangeFloorLabel($0) }),
        .text("calibration.risk_factors_topic", \.calibration.riskFactorsTopic),
        .integer("calibration.interval_ms", \.calibration.live.intervalMs),
        .number("calibration.vol_move_threshold", \.calibration.live.volatilityMoveThreshold),
        .integer("calibration.minimum_interval_ms", \.calibration.live.minimumIntervalMs),
    ]

    /// The section of librdkafka properties (`kafka.<property>`, `MARGIN_ENGINE_KAFKA_<PROP>`).
    static let kafkaSection = "kafka"

    static let settingsByKey: [String: WorkerSetting] = {
        var table: [String: WorkerSetting] = [:]
        for setting in settings { for key in [setting.key] + setting.aliases { table[key] = setting } }
        return table
    }()

    /// Refuses configurations that cannot work, naming the setting.
    public func validate() throws(ConfigurationError) {
        func fail(_ key: String, _ reason: String) throws(ConfigurationError) -> Never { throw ConfigurationError(key: key, reason: reason) }
        if brokers.isEmpty { try fail("brokers", "must not be empty") }
        if group.isEmpty { try fail("group", "must not be empty") }
        if instanceID.isEmpty { try fail("instance_id", "must not be empty") }
        if coalesceWindow < .milliseconds(1) || coalesceWindow > .seconds(60) { try fail("coalesce_window_ms", "must lie in 1…60000") }
        if !(1...100_000).contains(inputBatchLimit) { try fail("input_batch_limit", "must lie in 1…100000") }
        if engine.staleAfter < .milliseconds(1) { try fail("stale_after_ms", "must be positive") }
        if engine.maxClockSkew < .zero { try fail("max_clock_skew_ms", "must be ≥ 0") }
        if engine.restoreTimeout < .milliseconds(1) { try fail("restore_timeout_ms", "must be positive") }
        if engine.consumedPositionInterval < .zero || engine.consumedPositionInterval > .seconds(3600) {
            try fail("consumed_position_interval_ms", "must lie in 0…3600000")
        }
        let bounds = engine.inputBounds
        for (key, bound) in [("max_quantity", bounds.maxQuantity), ("max_balance", bounds.maxBalance), ("max_price", bounds.maxPrice)]
            where !(bound > 0 && bound <= 1e30) {
            try fail(key, "must lie in (0, 1e30]")
        }
        for (key, bound) in [("max_positions", bounds.maxPositions), ("max_balances", bounds.maxBalances), ("max_open_orders", bounds.maxOpenOrders)]
            where !(1...1_000_000).contains(bound) {
            try fail(key, "must lie in 1…1000000")
        }
        if !(0...1).contains(engine.minimumConfidence) { try fail("minimum_confidence", "must lie in [0, 1]") }
        if engine.publishThreshold < 0 { try fail("publish_threshold", "must be ≥ 0") }
        if engine.refreshInterval < .zero { try fail("refresh_interval_ms", "must be ≥ 0") }
        if httpPort < 0 || httpPort > 65_535 { try fail("http_port", "must lie in 0…65535") }
        if maxRequestBytes < 1_024 { try fail("max_request_bytes", "must be at least 1024") }
        if whatIfConcurrency < 1 { try fail("what_if_concurrency", "must be at least 1") }
        if httpIdleTimeout < .milliseconds(100) || httpIdleTimeout > .seconds(3_600) { try fail("http_idle_timeout_ms", "must lie in 100…3600000") }
        if httpMaxConnections < 1 || httpMaxConnections > 1_000_000 { try fail("http_max_connections", "must lie in 1…1000000") }
        try engine.liquidation.validate()
        do { try calibration.validate() } catch { try fail("calibration", error.description) }
    }

    /// Refuses a worker whose account API would be open to the network: a `http_host` other than
    /// loopback (127.0.0.0/8, `::1`, `localhost`) without `bearer_token`, unless `insecure_http`
    /// says so explicitly. `/health`, `/ready` and `/metrics` stay open either way (probes and
    /// scrapers carry no token; they show counts, not accounts).
    public func validateHTTPExposure() throws(ConfigurationError) {
        guard bearerToken == nil, !insecureHTTP, !Self.isLoopback(httpHost) else { return }
        throw ConfigurationError(key: "http_host", reason: "\(httpHost) is reachable from the network and bearer_token is not set: "
            + "set bearer_token (MARGIN_ENGINE_BEARER_TOKEN), bind 127.0.0.1, or accept it with insecure_http: true (--insecure-http)")
    }

    /// Whether `host` names only this machine.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// The effective configuration as text with secrets redacted (for the start-up log).
    public var redactedDescription: String { yaml(redactingSecrets: true) }

    /// The configuration as YAML that ``load(yaml:)`` reads back: one `key: value` line per
    /// setting of ``settings`` (dotted keys) and per `kafka.` property.
    public func yaml(redactingSecrets: Bool = false) -> String {
        var lines: [String] = []
        for setting in Self.settings {
            guard let value = setting.render(self) else { continue }
            lines.append("\(setting.key): \(redactingSecrets && setting.key == "bearer_token" ? "[redacted]" : Self.quoted(value))")
        }
        for (key, value) in kafka.sorted(by: { $0.key < $1.key }) {
            lines.append("\(Self.kafkaSection).\(key): \(redactingSecrets && KafkaConfiguration.isSecret(key) ? "[redacted]" : Self.quoted(value))")
        }
        return lines.joined(separator: "\n")
    }

    /// A YAML scalar for `value`, quoted when plain text would read differently.
    static func quoted(_ value: String) -> String {
        let plain = !value.isEmpty && value.allSatisfy { $0.isLetter || $0.isNumber || "._-/+:,@".contains($0) } && !value.hasPrefix("-")
            && !value.hasSuffix(":") && !value.contains(": ")
        return plain ? value : "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// The configured input bounds.
    public var inputBounds: InputBounds { engine.inputBounds }

    var format: SchemaCoding.Format { outputFormat }

    public func kafkaCommon(clientID: String) -> KafkaConfiguration {
        KafkaConfiguration(bootstrapServers: brokers, clientID: clientID, statisticsIntervalMs: 5_000, properties: kafka)
    }
}
