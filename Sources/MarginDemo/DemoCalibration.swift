import Foundation
import KafkaClient
import MarginBacktest
import MarginCalibrator
import MarginCore
import MarginEngineCore
import MarginSchema
import MarginWorker

/// The demo's live calibration: a calibrator runs in-process on the demo's market stream, seeded
/// with the bundled BTC history up to the day before the demo's market (no look-ahead), and the
/// workers margin with the parameter set it publishes (`params_id` `calibrated`); each new version
/// re-margins every account.
public enum DemoCalibration {
    static let paramsID = "calibrated"

    /// The bundled BTC closes before `day`.
    static func seed(before day: Int) throws -> [PriceHistory] {
        try HistoryFiles.load("builtin").filter { $0.underlying == "BTC" }.map { $0.truncated(through: day - 1) }
    }

    static func configuration(brokers: String) -> CalibratorConfiguration {
        var worker = WorkerConfiguration()
        worker.brokers = brokers
        worker.instanceID = "demo-calibrator"
        worker.kafka = ["log_level": "2"]
        worker.calibration.live.intervalMs = 0
        return CalibratorConfiguration(worker: worker, paramsID: paramsID)
    }

    /// The first version the calibrator will publish for the opening snapshot, computed by the
    /// calibrator's own core (the account generator sizes accounts against it; calibration is
    /// deterministic, so it is the same set).
    static func initialParameters(seed: [PriceHistory], configuration: CalibratorConfiguration,
                                  opening: UnderlyingMarket) throws -> RiskParameters {
        var core = try CalibratorCore(configuration: configuration, seed: seed)
        let record = KafkaMessage(topic: configuration.worker.topics.market, partition: 0, offset: 0, key: Data(opening.underlying.utf8),
                                  value: try SchemaCoding.encode(opening.proto, format: .protobuf), timestampMs: opening.timestampMs)
        guard let parameters = try core.observe(record).parameters else {
            throw MarginError.invalidInput(field: "demo", reason: "the calibrator published no parameters for the opening snapshot")
        }
        return parameters
    }

    /// The demo's opening calibrated parameter set: version 1 for the 2020 BTC chain's opening
    /// snapshot (FHS on), as the demo's workers first margin with it. Benchmarks run it as the
    /// configuration the product recommends.
    public static func openingParameters() throws -> RiskParameters {
        let market = try DemoMarket()
        let opening = market.snapshot(at: market.startMs, path: CrashPath())
        return try initialParameters(seed: seed(before: UTCDay.day(ofUnixMs: market.startMs)), configuration: configuration(brokers: ""),
                                     opening: opening)
    }

    /// One published version as the summary shows it.
    static func point(_ parameters: RiskParameters, simulatedSeconds: Double) -> DemoSummary.CalibrationPoint {
        let p = parameters.provenance
        func value(_ key: String) -> Double { Double(p["calibration.BTC.\(key)"] ?? "") ?? 0 }
        var es = 0.0
        if let set = parameters.historicalSimulation, let returns = set.logReturns["BTC"] {
            // ES of a $1M long BTC position over the set's scenarios.
            es = TailMeasure.measure(returns.map { 1_000_000 * (exp($0) - 1) }, confidence: set.confidence).expectedShortfall
        }
        return DemoSummary.CalibrationPoint(
            version: parameters.version, simulatedSeconds: simulatedSeconds, reason: p["calibration.reason"] ?? "",
            priceRange: value("price_range"), priceRangeWithoutAPC: value("price_range_without_apc"),
            forecastVolatility: value("forecast_vol_annual"), apcAddOn: value("apc_add_on"), expectedShortfallPerMillionLong: es)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
