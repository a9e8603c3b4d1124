import ArgumentParser
import CommandLineSupport
import Foundation
import Logging
import MarginBacktest
import MarginCalibrator
import MarginCore
import MarginHTTP
import MarginWorker
import ServiceLifecycle
import UnixSignals

/// `margin-engine calibrator`: live calibration on Kafka (one active instance per params id).
struct CalibratorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrator",
        abstract: "Recalibrate the dynamic risk model live from the market topic and publish parameter versions.",
        discussion: """
        Settings come from --config (YAML), MARGIN_ENGINE_<KEY> variables and --set like `run`: the Kafka \
        ones and the `calibration:` section (calibration.prices, base, apc, lambda, horizon_days, confidence, \
        lookback_days, measure, vol_treatment, fhs_weight, decorrelation, max_step, price_range_floor, \
        risk_factors_topic, interval_ms, vol_move_threshold). Reads margin.market.v1, appends daily closes to \
        the compacted risk-factor topic, and publishes a new version of --params-id to the params topic on a \
        new market day, when an underlying's EWMA volatility moves by more than calibration.vol_move_threshold, \
        and every calibration.interval_ms. Workers configured with the same params_id re-margin on each version.
        """
    )

    @OptionGroup var options: WorkerOptions

    @Option(help: "Id of the parameter set this calibrator publishes (workers use it as params_id).")
    var paramsID: String = "calibrated"

    @Option(help: "Log level.")
    var logLevel: String = "info"

    @Option(help: "Serve /health and /metrics on this port (on http_host; 0 picks a free one). Without it, no listener.")
    var httpPort: Int?

    func run() async throws {
        let calibrator: CalibratorConfiguration
        let seed: [PriceHistory]
        do {
            let configuration = CalibratorConfiguration(worker: try options.load(), paramsID: paramsID)
            try configuration.worker.validate()
            calibrator = configuration
            seed = try HistoryFiles.load(configuration.worker.calibration.prices)
        } catch {
            failInput("\(error)")
        }
        // The gauges it records (calibrated range, forecast vol, APC buffer) go to this registry.
        let registry = ProcessObservability.bootstrap()
        var logger = Logger(label: "margin-engine-calibrator")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: CalibratorService(configuration: calibrator, seed: seed, logger: logger))]
        if let httpPort {
            guard (0...65_535).contains(httpPort) else { failInput("--http-port must lie in 0…65535") }
            services.append(.init(service: buildMetricsApplication(host: calibrator.worker.httpHost, port: httpPort, registry: registry, logger: logger)))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
