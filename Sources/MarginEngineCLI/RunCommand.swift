import ArgumentParser
import CommandLineSupport
import Foundation
import Hummingbird
import Logging
import MarginHTTP
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

    @Flag(name: .customLong("insecure-http"), help: "Serve /v1 and the console on a non-loopback http_host without bearer_token.")
    var insecureHTTP = false

    func run() async throws {
        var configuration = WorkerConfiguration()
        do {
            configuration = try options.load()
            if let httpPort { configuration.httpPort = httpPort }
            if insecureHTTP { configuration.insecureHTTP = true }
            try configuration.validate()
            try configuration.validateHTTPExposure()
        } catch {
            failInput("\(error)")
        }
        let registry = ProcessObservability.bootstrap()
        var logger = Logger(label: "margin-engine")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        switch FileDescriptorLimit.raiseSoftToHard() {
        case .success(let limits): logger.info("open-file limit \(limits.soft) (hard \(limits.hard))")
        case .failure(let error): logger.warning("cannot raise the open-file limit: \(error)")
        }
        let worker = MarginWorkerService(configuration: configuration, logger: logger)
        let http = buildApplication(engine: worker.engine, configuration: configuration, registry: registry, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: worker), .init(service: http)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
