import ArgumentParser
import Foundation
import MarginEngineCore
import MarginWorker

/// The worker settings shared by `run` and `calibrator`: YAML file, then `MARGIN_ENGINE_<KEY>`
/// environment variables, then flags.
struct WorkerOptions: ParsableArguments {
    @Option(help: "YAML configuration file.")
    var config: String?

    @Option(help: "Kafka bootstrap servers.")
    var brokers: String?

    @Option(help: "Instance id.")
    var instanceID: String?

    @Option(name: .customLong("set"), help: "Any setting as key=value (repeatable).")
    var settings: [String] = []

    @Option(name: .customLong("kafka"), help: "A librdkafka property as name=value (repeatable).")
    var kafka: [String] = []

    func load() throws(ConfigurationError) -> WorkerConfiguration {
        var configuration = WorkerConfiguration()
        if let config {
            guard let text = try? String(contentsOfFile: config, encoding: .utf8) else { throw ConfigurationError(key: "config", reason: "cannot read \(config)") }
            configuration = try WorkerConfiguration.load(yaml: text)
        }
        try configuration.applyEnvironment(ProcessInfo.processInfo.environment)
        if let brokers { configuration.brokers = brokers }
        if let instanceID { configuration.instanceID = instanceID }
        for setting in settings {
            let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ConfigurationError(key: setting, reason: "expected key=value") }
            try configuration.set(parts[0], parts[1])
        }
        for property in kafka {
            let parts = property.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ConfigurationError(key: property, reason: "expected name=value") }
            configuration.kafka[parts[0]] = parts[1]
        }
        return configuration
    }
}
