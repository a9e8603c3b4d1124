import Foundation
import KafkaClient
import MarginCore
import MarginSchema

/// Everything `margin-engine run` is configured with: from a YAML file, then environment
/// variables (`MARGIN_ENGINE_<KEY>`), then flags. Durations are milliseconds.
///
/// Every setting is listed once, in ``settings``: the YAML loader, the environment and
/// `--set key=value` all go through that table, so a key that works in one works in all three.
public struct WorkerConfiguration: Sendable, Hashable {
    /// Kafka bootstrap servers.
    public var brokers = "127.0.0.1:9092"
    /// Consumer group of the accounts topic (all instances share it).
    public var group = "margin-engine"
    /// This instance's id (part of its transactional id and metrics); defaults to the host name.
    public var instanceID = ProcessInfo.processInfo.hostName
    public var topics = TopicNames()
    /// Risk-parameter set used (from the params topic, else the shipped preset of that name).
    public var paramsID = "deribit-like"
    /// Market updates are coalesced per window: a burst of ticks costs one re-margin pass.
    public var coalesceWindowMs = 50
    /// A market snapshot older than this marks exposed accounts `stale`.
    public var staleAfterMs: Int64 = 10_000
    /// A market snapshot dated more than this far ahead of the clock is dead-lettered.
    public var maxClockSkewMs: Int64 = 5_000
    /// A partition (reference, accounts or liquidation state) still restoring after this long is
    /// logged as an error and counted in `margin_restore_timeouts_total{kind}`; it keeps restoring
    /// and the instance stays not ready (an unrestored shard is never margined).
    public var restoreTimeoutMs: Int64 = 120_000
    /// Input bounds (``InputBounds``): larger magnitudes are dead-lettered (or answered 400) naming
    /// the field. Contracts per position, asset units per balance, USD per price.
    public var maxQuantity = InputBounds.standard.maxQuantity
    public var maxBalance = InputBounds.standard.maxBalance
    public var maxPrice = InputBounds.standard.maxPrice
    /// An index confidence below this marks exposed accounts `stale`.
    public var minimumConfidence = 0.5
    /// A result is published when health changes or MM/IM move by more than this fraction.
    public var publishThreshold = 0.01
    /// What a market-driven republish (same account version and health, MM or IM moved beyond
    /// `publish_threshold`) carries: `full`, the explained result like every other publication, or
    /// `summary`, the figures without the explanation (`summary_only`; about a tenth of the cost,
    /// see README *Scaling*). New versions, health changes and restores always publish in full.
    public var marketResults = "full"
    /// Every account's result is republished this often (0 disables).
    public var refreshIntervalMs: Int64 = 60_000
    /// Outputs and consumed offsets in one Kafka transaction per batch.
    public var transactional = true
    /// Output encoding: `protobuf` or `json`.
    public var outputFormat = "protobuf"
    /// HTTP listener (loopback unless configured otherwise); 0 picks a free port.
    public var httpHost = "127.0.0.1"
    public var httpPort = 8080
    /// When set, `/v1` routes require `Authorization: Bearer <token>`.
    public var bearerToken: String?
    /// Largest accepted HTTP request body (bytes).
    public var maxRequestBytes = 1_048_576
    /// Liquidation planner settings.
    public var liquidation = LiquidationSettings()
    /// Dynamic risk model settings (the calibrator, `calibrate` and `backtest`).
    public var calibration = CalibrationSettings()
    /// Extra librdkafka properties for every client (SASL/SSL, …); keys without the `kafka.` prefix.
    public var kafka: [String: String] = [:]
    /// Fast test-friendly consumer timings (embedded broker).
    public var sessionTimeoutMs = 10_000

    public init() {}

    /// Every setting by its YAML key (sections as dotted prefixes: `liquidation.target_buffer`,
    /// `topics.results`). The YAML file, `MARGIN_ENGINE_<KEY>` variables and `--set key=value` all
    /// use this one table; `kafka.<property>` passes librdkafka properties through.
    public static let settings: [WorkerSetting] = [
        .text("brokers", \.brokers),
        .text("group", \.group),
        .text("instance_id", \.instanceID),
        .text("topics.instruments", \.topics.instruments),
        .text("topics.market", \.topics.market),
        .text("topics.accounts", \.topics.accounts),
        .text("topics.params", \.topics.params),
        .text("topics.results", \.topics.results),
        .text("topics.liquidations", \.topics.liquidations),
        .text("topics.liquidation_state", \.topics.liquidationState, aliases: ["topics.liquidationState"]),
        .text("topics.dead_letter", \.topics.deadLetter, aliases: ["topics.deadLetter"]),
        .text("params_id", \.paramsID),
        .integer("coalesce_window_ms", \.coalesceWindowMs),
        .integer("stale_after_ms", \.staleAfterMs),
        .integer("max_clock_skew_ms", \.maxClockSkewMs),
        .integer("restore_timeout_ms", \.restoreTimeoutMs),
        .number("max_quantity", \.maxQuantity),
        .number("max_balance", \.maxBalance),
        .number("max_price", \.maxPrice),
        .number("minimum_confidence", \.minimumConfidence),
        .number("publish_threshold", \.publishThreshold),
        .text("market_results", \.marketResults),
        .integer("refresh_interval_ms", \.refreshIntervalMs),
        .flag("transactional", \.transactional),
        .text("output_format", \.outputFormat),
        .text("http_host", \.httpHost),
        .integer("http_port", \.httpPort),
        .optionalText("bearer_token", \.bearerToken),
        .integer("max_request_bytes", \.maxRequestBytes),
        .flag("liquidation.enabled", \.liquidation.enabled),
        .number("liquidation.target_buffer", \.liquidation.targetBuffer),
        .number("liquidation.close_out_equity", \.liquidation.closeOutEquity),
        .number("liquidation.depth_fraction", \.liquidation.depthFraction),
        .number("liquidation.penalty_rate", \.liquidation.penaltyRate),
        .number("liquidation.impact_coefficient", \.liquidation.impactCoefficient),
        .number("liquidation.budget_fraction", \.liquidation.budgetFraction),
        .integer("liquidation.budget_window_ms", \.liquidation.budgetWindowMs),
        .number("liquidation.no_book_cap", \.liquidation.noBookCap),
        .integer("liquidation.deadline_ms", \.liquidation.deadlineMs),
        .integer("session_timeout_ms", \.sessionTimeoutMs),
        .text("calibration.prices", \.calibration.prices),
        .text("calibration.base", \.calibration.base),
        .text("calibration.apc", \.calibration.apc),
        .number("calibration.lambda", \.calibration.lambda),
        .text("calibration.volatility_model", \.calibration.volatilityModel),
        .number("calibration.max_revolatilisation", \.calibration.maxRevolatilisation),
        .integer("calibration.horizon_days", \.calibration.horizonDays),
        .number("calibration.confidence", \.calibration.confidence),
        .integer("calibration.lookback_days", \.calibration.lookbackDays),
        .text("calibration.measure", \.calibration.measure),
        .text("calibration.vol_treatment", \.calibration.volTreatment),
        .optionalNumber("calibration.fhs_weight", \.calibration.fhsWeight),
        .number("calibration.decorrelation", \.calibration.decorrelation),
        .number("calibration.max_step", \.calibration.maxStep),
        .text("calibration.price_range_floor", \.calibration.priceRangeFloor),
        .text("calibration.risk_factors_topic", \.calibration.riskFactorsTopic),
        .integer("calibration.interval_ms", \.calibration.intervalMs),
        .number("calibration.vol_move_threshold", \.calibration.volMoveThreshold),
    ]

    /// The section of librdkafka properties (`kafka.<property>`, `MARGIN_ENGINE_KAFKA_<PROP>`).
    static let kafkaSection = "kafka"

    static let settingsByKey: [String: WorkerSetting] = {
        var table: [String: WorkerSetting] = [:]
        for setting in settings { for key in [setting.key] + setting.aliases { table[key] = setting } }
        return table
    }()

    /// Refuses configurations that cannot work, naming the setting.
    public func validate() throws {
        func fail(_ key: String, _ reason: String) throws -> Never { throw ConfigurationError(key: key, reason: reason) }
        if brokers.isEmpty { try fail("brokers", "must not be empty") }
        if group.isEmpty { try fail("group", "must not be empty") }
        if instanceID.isEmpty { try fail("instance_id", "must not be empty") }
        if coalesceWindowMs < 1 || coalesceWindowMs > 60_000 { try fail("coalesce_window_ms", "must lie in 1…60000") }
        if staleAfterMs < 1 { try fail("stale_after_ms", "must be positive") }
        if maxClockSkewMs < 0 { try fail("max_clock_skew_ms", "must be ≥ 0") }
        if restoreTimeoutMs < 1 { try fail("restore_timeout_ms", "must be positive") }
        for (key, bound) in [("max_quantity", maxQuantity), ("max_balance", maxBalance), ("max_price", maxPrice)] where !(bound > 0 && bound <= 1e30) {
            try fail(key, "must lie in (0, 1e30]")
        }
        if !(0...1).contains(minimumConfidence) { try fail("minimum_confidence", "must lie in [0, 1]") }
        if publishThreshold < 0 { try fail("publish_threshold", "must be ≥ 0") }
        if refreshIntervalMs < 0 { try fail("refresh_interval_ms", "must be ≥ 0") }
        if SchemaCoding.Format(rawValue: outputFormat) == nil { try fail("output_format", "must be protobuf or json") }
        if !["full", "summary"].contains(marketResults) { try fail("market_results", "must be full or summary") }
        if httpPort < 0 || httpPort > 65_535 { try fail("http_port", "must lie in 0…65535") }
        if maxRequestBytes < 1_024 { try fail("max_request_bytes", "must be at least 1024") }
        try liquidation.validate()
        do { _ = try calibration.modelSettings() } catch { try fail("calibration", error.description) }
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
    public var inputBounds: InputBounds { InputBounds(maxQuantity: maxQuantity, maxBalance: maxBalance, maxPrice: maxPrice) }

    var format: SchemaCoding.Format { SchemaCoding.Format(rawValue: outputFormat) ?? .protobuf }

    func kafkaCommon(clientID: String) -> KafkaConfiguration {
        KafkaConfiguration(bootstrapServers: brokers, clientID: clientID, statisticsIntervalMs: 5_000, properties: kafka)
    }
}
