import ArgumentParser
import Foundation
import Logging
import MarginBacktest
import MarginCore
import MarginWorker
import ServiceLifecycle
import UnixSignals

/// `margin-engine calibrator`: live calibration on Kafka (one active instance per params id).
struct CalibratorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrator",
        abstract: "Recalibrate the dynamic risk model live from the market topic and publish parameter versions.",
        discussion: """
        Kafka settings (brokers, topics, kafka properties, output format) come from --config (YAML), \
        MARGIN_ENGINE_<KEY> variables and --set like `run`. Reads margin.market.v1, appends daily closes to \
        the compacted risk-factor topic, and publishes a new version of --params-id to the params topic on a \
        new market day, when an underlying's EWMA volatility moves by more than --vol-move-threshold, and \
        every --interval-ms. Workers configured with the same params_id re-margin on each version.
        """
    )

    @OptionGroup var options: WorkerOptions
    @OptionGroup var model: RiskModelOptions

    @Option(help: "Id of the parameter set this calibrator publishes (workers use it as params_id).")
    var paramsID: String = "calibrated"

    @Option(help: "Compacted topic of the daily closes.")
    var riskFactorsTopic: String = "margin.riskfactors.v1"

    @Option(help: "Recalibrate at least this often, market time (0: only on new days and volatility moves).")
    var intervalMs: Int64 = 6 * 3_600_000

    @Option(help: "Relative EWMA volatility move that triggers a recalibration.")
    var volMoveThreshold: Double = 0.25

    @Option(help: "Log level.")
    var logLevel: String = "info"

    func run() async throws {
        let calibrator: CalibratorConfiguration
        let seed: [PriceHistory]
        do {
            var configuration = CalibratorConfiguration(worker: try options.load())
            configuration.worker.paramsID = paramsID
            configuration.riskFactorsTopic = riskFactorsTopic
            configuration.base = model.base
            configuration.model = try model.settings()
            configuration.live.intervalMs = intervalMs
            configuration.live.volatilityMoveThreshold = volMoveThreshold
            try configuration.worker.validate()
            calibrator = configuration
            seed = try HistoryFiles.load(model.prices)
        } catch {
            failInput("\(error)")
        }
        var logger = Logger(label: "margin-engine-calibrator")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let service = CalibratorService(configuration: calibrator, seed: seed, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
