import ArgumentParser
import Foundation
import Hummingbird
import KafkaClient
import Logging
import MarginWorker
import ServiceLifecycle
import UnixSignals

/// `margin-engine run`: the production worker.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a margin worker instance (Kafka consumer group member, HTTP health/metrics/API).",
        discussion: """
        Settings come from --config (YAML), then MARGIN_ENGINE_<KEY> environment variables, then flags. \
        librdkafka properties pass through as `kafka:` entries, MARGIN_ENGINE_KAFKA_<PROP> or --kafka prop=value.
        """
    )

    @OptionGroup var options: WorkerOptions

    @Option(help: "HTTP port (0 picks a free one).")
    var httpPort: Int?

    @Option(help: "Log level (trace, debug, info, notice, warning, error, critical).")
    var logLevel: String = "info"

    func run() async throws {
        var configuration = WorkerConfiguration()
        do {
            configuration = try options.load()
            if let httpPort { configuration.httpPort = httpPort }
            try configuration.validate()
        } catch {
            failInput("\(error)")
        }
        var logger = Logger(label: "margin-engine")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        _ = WorkerMetricsRegistry.shared
        let worker = MarginWorkerService(configuration: configuration, logger: logger)
        let http = buildApplication(engine: worker.engine, configuration: configuration, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: worker), .init(service: http)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

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

    func load() throws -> WorkerConfiguration {
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

/// `margin-engine dev-broker`: an embedded Kafka with all topics, until stopped.
struct DevBrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-broker",
        abstract: "Start an embedded Kafka (librdkafka mock cluster) with the worker's topics; print its bootstrap servers."
    )

    @Option(help: "Number of brokers.")
    var brokers: Int = 3

    @Option(help: "Partitions of the accounts topic (and of its co-partitioned outputs).")
    var partitions: Int32 = 6

    @Option(help: "Also write the bootstrap servers to this file.")
    var bootstrapFile: String?

    func run() async throws {
        let logger = Logger(label: "dev-broker")
        let cluster = try EmbeddedKafkaCluster(brokers: brokers, logger: logger)
        try WorkerTopology.create(on: cluster, partitions: partitions)
        print(cluster.bootstrapServers)
        if let bootstrapFile { try cluster.bootstrapServers.write(toFile: bootstrapFile, atomically: true, encoding: .utf8) }
        FileHandleOutput.standardError("embedded Kafka: \(brokers) broker(s), topics: \(TopicNames().all.joined(separator: ", ")); Ctrl-C stops it\n")
        let monitor = try EmbeddedLogStartMonitor(bootstrapServers: cluster.bootstrapServers, topics: TopicNames().all, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: ClusterHolder(cluster: cluster, monitor: monitor))],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Keeps the embedded cluster alive until graceful shutdown, checking every 10 s that it has not
/// dropped records (``EmbeddedLogStartMonitor`` logs loudly when it has).
struct ClusterHolder: Service {
    let cluster: EmbeddedKafkaCluster
    let monitor: EmbeddedLogStartMonitor

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                _ = await monitor.check()
                do { try await Task.sleep(for: .seconds(10)) } catch { break }
            }
        }
        await monitor.close()
        _ = cluster
    }
}
