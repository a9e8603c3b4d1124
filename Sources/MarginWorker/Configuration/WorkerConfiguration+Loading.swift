import Foundation
import MarginEngineCore
import Yams

/// Loading the settings table (``WorkerConfiguration/settings``) from YAML, the environment and
/// `--set key=value`: all three go through the same table.
extension WorkerConfiguration {
    static let settingsByEnvironmentName: [String: WorkerSetting] =
        Dictionary(uniqueKeysWithValues: settings.map { ($0.environmentName, $0) })

    /// Reads a YAML file: nested mappings are sections (`liquidation:` → `liquidation.<key>`), every
    /// value is set through ``settings`` as its text; unknown keys are refused, a null value keeps
    /// the default.
    public static func load(yaml text: String) throws(ConfigurationError) -> WorkerConfiguration {
        var configuration = WorkerConfiguration()
        let document: Node?
        do { document = try Yams.compose(yaml: text) } catch { throw ConfigurationError(key: "config", reason: "not YAML: \(error)") }
        guard let root = document else { return configuration }
        guard case .mapping = root else { throw ConfigurationError(key: "config", reason: "expected a mapping of settings") }
        try configuration.apply(yaml: root, key: nil)
        return configuration
    }

    mutating func apply(yaml node: Node, key: String?) throws(ConfigurationError) {
        switch node {
        case .mapping(let mapping):
            for (name, value) in mapping {
                guard let name = name.string, !name.isEmpty else {
                    throw ConfigurationError(key: key ?? "config", reason: "setting names must be text")
                }
                try apply(yaml: value, key: key.map { "\($0).\(name)" } ?? name)
            }
        case .scalar(let scalar):
            guard let key else { return }
            if node.null != nil {
                guard Self.isKnown(key) else { throw ConfigurationError(key: key, reason: "unknown setting") }
                if let setting = Self.settingsByKey[key] { setting.reset(&self) }
                return
            }
            try set(key, scalar.string)
        case .sequence:
            throw ConfigurationError(key: key ?? "config", reason: "expected a single value, not a list")
        }
    }

    /// A setting, a section of settings, or the `kafka` section.
    static func isKnown(_ key: String) -> Bool {
        settingsByKey[key] != nil || key == kafkaSection || key.hasPrefix(kafkaSection + ".")
            || settings.contains { $0.key.hasPrefix(key + ".") }
    }

    /// Applies `MARGIN_ENGINE_<KEY>` variables: the setting's key upper-cased with dots as
    /// underscores (`MARGIN_ENGINE_HTTP_PORT`, `MARGIN_ENGINE_LIQUIDATION_TARGET_BUFFER`,
    /// `MARGIN_ENGINE_TOPICS_RESULTS`); `MARGIN_ENGINE_KAFKA_SASL_USERNAME` → `kafka: sasl.username`.
    /// An unknown `MARGIN_ENGINE_` variable is refused (`MARGIN_ENGINE_TARGET_CPU` is the build's).
    public mutating func applyEnvironment(_ environment: [String: String]) throws(ConfigurationError) {
        let prefix = "MARGIN_ENGINE_"
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix(prefix) {
            let upper = name.uppercased()
            let rest = upper.dropFirst(prefix.count)
            if rest.hasPrefix("KAFKA_") {
                let property = name.dropFirst(prefix.count + "KAFKA_".count).lowercased().replacingOccurrences(of: "_", with: ".")
                kafka[property] = value
            } else if rest == "TARGET_CPU" {
                continue
            } else if let setting = Self.settingsByEnvironmentName[upper] {
                try setting.assign(&self, value)
            } else {
                throw ConfigurationError(key: name, reason: "unknown setting")
            }
        }
    }

    /// Sets one setting by its YAML key (`brokers`, `liquidation.target_buffer`, `topics.results`,
    /// `kafka.<property>`); the YAML loader, environment and flags all use this.
    public mutating func set(_ key: String, _ value: String) throws(ConfigurationError) {
        if let setting = Self.settingsByKey[key] {
            try setting.assign(&self, value)
        } else if key.hasPrefix(Self.kafkaSection + "."), key.count > Self.kafkaSection.count + 1 {
            kafka[String(key.dropFirst(Self.kafkaSection.count + 1))] = value
        } else {
            throw ConfigurationError(key: key, reason: "unknown setting")
        }
    }
}

extension WorkerConfiguration {
    /// A setting's default as text (nil: unknown key, or an optional without default).
    public static func defaultText(_ key: String) -> String? {
        settingsByKey[key]?.render(WorkerConfiguration())
    }
}
