import Foundation
import KafkaClient
import MarginSchema
import Yams

/// Topic names of the worker (these are the defaults; see `Schemas/README.md`).
public struct TopicNames: Codable, Sendable, Hashable {
    public var instruments = "margin.instruments.v1"
    public var market = "margin.market.v1"
    public var accounts = "margin.accounts.v1"
    public var params = "margin.params.v1"
    public var results = "margin.results.v1"
    public var liquidations = "margin.liquidations.v1"
    public var liquidationState = "margin.liquidation-state.v1"
    public var deadLetter = "margin.deadletter.v1"

    public init() {}

    /// The compacted input topics every instance reads whole.
    public var reference: [String] { [instruments, market, params] }
    /// Every topic the worker uses.
    public var all: [String] { [instruments, market, accounts, params, results, liquidations, liquidationState, deadLetter] }
}

/// Everything `margin-engine run` is configured with: from a YAML file, then environment
/// variables (`MARGIN_ENGINE_<KEY>`), then flags. Durations are milliseconds.
public struct WorkerConfiguration: Codable, Sendable, Hashable {
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
    /// An index confidence below this marks exposed accounts `stale`.
    public var minimumConfidence = 0.5
    /// A result is published when health changes or MM/IM move by more than this fraction.
    public var publishThreshold = 0.01
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
    /// Extra librdkafka properties for every client (SASL/SSL, …); keys without the `kafka.` prefix.
    public var kafka: [String: String] = [:]
    /// Fast test-friendly consumer timings (embedded broker).
    public var sessionTimeoutMs = 10_000

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case brokers, group, instanceID = "instance_id", topics, paramsID = "params_id", coalesceWindowMs = "coalesce_window_ms"
        case staleAfterMs = "stale_after_ms", minimumConfidence = "minimum_confidence", publishThreshold = "publish_threshold"
        case refreshIntervalMs = "refresh_interval_ms", transactional, outputFormat = "output_format", httpHost = "http_host"
        case httpPort = "http_port", bearerToken = "bearer_token", maxRequestBytes = "max_request_bytes", liquidation, kafka
        case sessionTimeoutMs = "session_timeout_ms"
    }

    public init(from decoder: any Decoder) throws {
        let defaults = WorkerConfiguration()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        brokers = try c.decodeIfPresent(String.self, forKey: .brokers) ?? defaults.brokers
        group = try c.decodeIfPresent(String.self, forKey: .group) ?? defaults.group
        instanceID = try c.decodeIfPresent(String.self, forKey: .instanceID) ?? defaults.instanceID
        topics = try c.decodeIfPresent(TopicNames.self, forKey: .topics) ?? defaults.topics
        paramsID = try c.decodeIfPresent(String.self, forKey: .paramsID) ?? defaults.paramsID
        coalesceWindowMs = try c.decodeIfPresent(Int.self, forKey: .coalesceWindowMs) ?? defaults.coalesceWindowMs
        staleAfterMs = try c.decodeIfPresent(Int64.self, forKey: .staleAfterMs) ?? defaults.staleAfterMs
        minimumConfidence = try c.decodeIfPresent(Double.self, forKey: .minimumConfidence) ?? defaults.minimumConfidence
        publishThreshold = try c.decodeIfPresent(Double.self, forKey: .publishThreshold) ?? defaults.publishThreshold
        refreshIntervalMs = try c.decodeIfPresent(Int64.self, forKey: .refreshIntervalMs) ?? defaults.refreshIntervalMs
        transactional = try c.decodeIfPresent(Bool.self, forKey: .transactional) ?? defaults.transactional
        outputFormat = try c.decodeIfPresent(String.self, forKey: .outputFormat) ?? defaults.outputFormat
        httpHost = try c.decodeIfPresent(String.self, forKey: .httpHost) ?? defaults.httpHost
        httpPort = try c.decodeIfPresent(Int.self, forKey: .httpPort) ?? defaults.httpPort
        bearerToken = try c.decodeIfPresent(String.self, forKey: .bearerToken)
        maxRequestBytes = try c.decodeIfPresent(Int.self, forKey: .maxRequestBytes) ?? defaults.maxRequestBytes
        liquidation = try c.decodeIfPresent(LiquidationSettings.self, forKey: .liquidation) ?? defaults.liquidation
        kafka = try c.decodeIfPresent([String: String].self, forKey: .kafka) ?? [:]
        sessionTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .sessionTimeoutMs) ?? defaults.sessionTimeoutMs
    }

    /// Reads a YAML file (keys as in ``CodingKeys``); unknown keys are refused.
    public static func load(yaml text: String) throws -> WorkerConfiguration {
        if let root = try Yams.load(yaml: text) as? [String: Any] {
            let known = Set(CodingKeys.allCases.map(\.rawValue))
            if let unknown = root.keys.sorted().first(where: { !known.contains($0) }) {
                throw ConfigurationError(key: unknown, reason: "unknown setting")
            }
        }
        return try YAMLDecoder().decode(WorkerConfiguration.self, from: text)
    }

    /// Applies `MARGIN_ENGINE_<KEY>` variables (e.g. `MARGIN_ENGINE_BROKERS`,
    /// `MARGIN_ENGINE_HTTP_PORT`, `MARGIN_ENGINE_KAFKA_SASL_USERNAME` → `kafka: sasl.username`).
    public mutating func applyEnvironment(_ environment: [String: String]) throws {
        for (name, value) in environment where name.hasPrefix("MARGIN_ENGINE_") {
            let key = String(name.dropFirst("MARGIN_ENGINE_".count)).lowercased()
            if key.hasPrefix("kafka_") {
                kafka[key.dropFirst("kafka_".count).replacingOccurrences(of: "_", with: ".")] = value
            } else if key != "target_cpu" {
                try set(key, value)
            }
        }
    }

    /// Sets one setting by its YAML key (flags and environment use this).
    public mutating func set(_ key: String, _ value: String) throws {
        func int() throws -> Int {
            guard let v = Int(value) else { throw ConfigurationError(key: key, reason: "expected an integer, got '\(value)'") }
            return v
        }
        func double() throws -> Double {
            guard let v = Double(value), v.isFinite else { throw ConfigurationError(key: key, reason: "expected a number, got '\(value)'") }
            return v
        }
        func bool() throws -> Bool {
            guard let v = Bool(value.lowercased()) else { throw ConfigurationError(key: key, reason: "expected true or false, got '\(value)'") }
            return v
        }
        switch key {
        case "brokers": brokers = value
        case "group": group = value
        case "instance_id": instanceID = value
        case "params_id": paramsID = value
        case "coalesce_window_ms": coalesceWindowMs = try int()
        case "stale_after_ms": staleAfterMs = Int64(try int())
        case "minimum_confidence": minimumConfidence = try double()
        case "publish_threshold": publishThreshold = try double()
        case "refresh_interval_ms": refreshIntervalMs = Int64(try int())
        case "transactional": transactional = try bool()
        case "output_format": outputFormat = value
        case "http_host": httpHost = value
        case "http_port": httpPort = try int()
        case "bearer_token": bearerToken = value
        case "max_request_bytes": maxRequestBytes = try int()
        case "session_timeout_ms": sessionTimeoutMs = try int()
        default:
            if key.hasPrefix("kafka.") { kafka[String(key.dropFirst("kafka.".count))] = value; return }
            throw ConfigurationError(key: key, reason: "unknown setting")
        }
    }

    /// Refuses configurations that cannot work, naming the setting.
    public func validate() throws {
        func fail(_ key: String, _ reason: String) throws -> Never { throw ConfigurationError(key: key, reason: reason) }
        if brokers.isEmpty { try fail("brokers", "must not be empty") }
        if group.isEmpty { try fail("group", "must not be empty") }
        if instanceID.isEmpty { try fail("instance_id", "must not be empty") }
        if coalesceWindowMs < 1 || coalesceWindowMs > 60_000 { try fail("coalesce_window_ms", "must lie in 1…60000") }
        if staleAfterMs < 1 { try fail("stale_after_ms", "must be positive") }
        if !(0...1).contains(minimumConfidence) { try fail("minimum_confidence", "must lie in [0, 1]") }
        if publishThreshold < 0 { try fail("publish_threshold", "must be ≥ 0") }
        if refreshIntervalMs < 0 { try fail("refresh_interval_ms", "must be ≥ 0") }
        if SchemaCoding.Format(rawValue: outputFormat) == nil { try fail("output_format", "must be protobuf or json") }
        if httpPort < 0 || httpPort > 65_535 { try fail("http_port", "must lie in 0…65535") }
        if maxRequestBytes < 1_024 { try fail("max_request_bytes", "must be at least 1024") }
        try liquidation.validate()
    }

    /// The effective configuration as text, with secrets redacted (for the start-up log).
    public var redactedDescription: String {
        var copy = self
        if copy.bearerToken != nil { copy.bearerToken = "[redacted]" }
        for key in copy.kafka.keys where KafkaConfiguration.isSecret(key) { copy.kafka[key] = "[redacted]" }
        return (try? YAMLEncoder().encode(copy)) ?? "\(copy)"
    }

    var format: SchemaCoding.Format { SchemaCoding.Format(rawValue: outputFormat) ?? .protobuf }

    func kafkaCommon(clientID: String) -> KafkaConfiguration {
        KafkaConfiguration(bootstrapServers: brokers, clientID: clientID, statisticsIntervalMs: 5_000, properties: kafka)
    }
}

/// A configuration setting that cannot be used.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var key: String
    public var reason: String

    public init(key: String, reason: String) {
        self.key = key
        self.reason = reason
    }

    public var description: String { "configuration \(key): \(reason)" }
}
