import ArgumentParser
import CommandLineSupport
import Foundation
import MarginBacktest
import MarginCore
import MarginEngineCore
import MarginSchema
import MarginWorker

/// Options of the dynamic risk model shared by `calibrate` and `backtest`: the worker's
/// `calibration:` settings as flags, parsed and defaulted by the same settings table.
struct RiskModelOptions: ParsableArguments {
    private static func standard(_ key: String) -> String { WorkerConfiguration.defaultText("calibration." + key) ?? "" }

    @Option(name: .long, help: "Price history: UNDERLYING=file.csv,… or file.csv,… (names from the ticker), or builtin (bundled BTC and ETH).")
    var prices = standard("prices")

    @Option(name: .long, help: "Base parameter preset whose grid is rescaled (\(RiskPresets.names.joined(separator: ", "))).")
    var base = standard("base")

    @Option(name: .long, help: "Anti-procyclicality: buffer, stress-weight, floor, none, or several joined by +.")
    var apc = standard("apc")

    @Option(name: .long, help: "EWMA decay λ (the ewma and asymmetric_ewma models, and the fallback of the others).")
    var lambda = standard("lambda")

    @Option(name: .long, help: "Volatility model filtering the returns: \(VolatilityModel.allCases.map(\.rawValue).joined(separator: ", ")).")
    var volatilityModel = standard("volatility_model")

    @Option(name: .long, help: "Bound of the revolatilisation factor σ_today/σ_day of one day's return (0: none).")
    var maxRevolatilisation = standard("max_revolatilisation")

    @Option(name: .long, help: "Margin horizon in days.")
    var horizonDays = standard("horizon_days")

    @Option(name: .long, help: "Confidence of ES/VaR and of the price-range quantile.")
    var confidence = standard("confidence")

    @Option(name: .long, help: "Scenario dates kept, most recent first (0: all).")
    var lookbackDays = standard("lookback_days")

    @Option(name: .long, help: "Tail measure: es or var.")
    var measure = standard("measure")

    @Option(name: .long, help: "Volatility in scenarios: worst_of_grid or none.")
    var volTreatment = standard("vol_treatment")

    @Option(name: .long, help: "Blend weight x of FHS (risk loss = x·fhs + (1−x)·grid); default: the maximum of the two.")
    var fhsWeight: String?

    @Option(name: .long, help: "Grid decorrelation factor d across underlyings.")
    var decorrelation = standard("decorrelation")

    @Option(name: .long, help: "Largest daily relative change of a calibrated range (phase-in).")
    var maxStep = standard("max_step")

    @Option(name: .long, help: "Minimum grid price range, e.g. 0.05 or BTC=0.06,ETH=0.08.")
    var priceRangeFloor = standard("price_range_floor")

    /// The options as the worker configuration's `calibration:` section, through its settings table.
    func calibration() throws(MarginError) -> CalibrationSettings {
        var configuration = WorkerConfiguration()
        let values = [("prices", prices), ("base", base), ("apc", apc), ("lambda", lambda), ("volatility_model", volatilityModel),
                      ("max_revolatilisation", maxRevolatilisation), ("horizon_days", horizonDays), ("confidence", confidence),
                      ("lookback_days", lookbackDays), ("measure", measure), ("vol_treatment", volTreatment),
                      ("fhs_weight", fhsWeight), ("decorrelation", decorrelation), ("max_step", maxStep),
                      ("price_range_floor", priceRangeFloor)]
        for case let (key, value?) in values {
            do { try configuration.set("calibration." + key, value) } catch {
                throw .invalidInput(field: key.replacingOccurrences(of: "_", with: "-"), reason: error.reason)
            }
        }
        try configuration.calibration.validate()
        return configuration.calibration
    }

    /// The validated model settings.
    func settings() throws(MarginError) -> RiskModelSettings { try calibration().model }
}

/// `margin-engine calibrate`: a risk-parameter set calibrated from price history.
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Calibrate a risk-parameter set (FHS scenarios, grid ranges, APC) from daily price history.",
        discussion: """
        Writes a margin.v1.RiskParameters (protobuf JSON) built on --base: each underlying's regular grid \
        rescaled to its calibrated price range, the joint scenario set (filtered historical simulation or \
        Monte Carlo), the decorrelation factor and the provenance. With --previous, the APC buffer and \
        phase-in continue from that calibration. Exit code 2 on invalid input.
        """
    )

    @OptionGroup var model: RiskModelOptions

    @Option(name: .long, help: "Calibrate with data up to this UTC day (YYYY-MM-DD); default: the last common day.")
    var asOf: String?

    @Option(name: .long, help: "Scenario source: historical or monte_carlo.")
    var source: String = "historical"

    @Option(name: .long, help: "Monte Carlo method: bootstrap or student-t.")
    var mcMethod: String = "student-t"

    @Option(name: .long, help: "Monte Carlo draws.")
    var mcCount: Int = 10_000

    @Option(name: .long, help: "Student-t degrees of freedom ν.")
    var nu: Double = 4

    @Option(name: .long, help: "Monte Carlo seed.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "A previous calibrated parameter file: APC buffer and phase-in continue from it.")
    var previous: String?

    @Option(name: .long, help: "Id of the written parameter set.")
    var id: String = "calibrated"

    @Option(name: .long, help: "Version of the written parameter set (default: the as-of day's number, so later days have higher versions).")
    var version: Int64?

    @Option(name: .long, help: "Output file (default: standard output).")
    var out: String?

    func run() throws {
        do {
            let settings = try model.settings()
            let history = try JointHistory(HistoryFiles.load(model.prices))
            var asOfDay: Int?
            if let asOf {
                guard let day = UTCDay.parse(asOf) else { throw MarginError.invalidInput(field: "as-of", reason: "`\(asOf)` is not YYYY-MM-DD") }
                asOfDay = day
            }
            var previousState: [String: RiskModelCalibrator.State] = [:]
            if let previous {
                let p = try SchemaCoding.decode(Margin_V1_RiskParameters.self, from: readInputFile(previous, what: "previous params"), format: .json)
                previousState = RiskModelCalibrator.State.fromProvenance(p.provenance)
            }
            let calibrator = try RiskModelCalibrator(settings: settings)
            let result: RiskModelCalibrator.Result
            switch source {
            case "historical":
                result = try calibrator.calibrate(history, asOfDay: asOfDay, previous: previousState)
            case "monte_carlo":
                let method: RiskModelCalibrator.MonteCarloMethod
                switch mcMethod {
                case "bootstrap": method = .filteredBootstrap
                case "student-t": method = .studentT(degreesOfFreedom: nu)
                default: throw MarginError.invalidInput(field: "mc-method", reason: "bootstrap or student-t, got \(mcMethod)")
                }
                result = try calibrator.calibrateMonteCarlo(history, method: method, count: mcCount, seed: seed, asOfDay: asOfDay, previous: previousState)
            default:
                throw MarginError.invalidInput(field: "source", reason: "historical or monte_carlo, got \(source)")
            }
            let parameters = try RiskPresets.load(model.base)
                .applyingCalibration(result, settings: settings, id: id, version: version ?? Int64(result.toDay))
            let json = String(decoding: try SchemaCoding.encode(parameters.proto, format: .json, pretty: true), as: UTF8.self) + "\n"
            if let out {
                guard FileManager.default.createFile(atPath: out, contents: Data(json.utf8)) else { failInput("cannot write \(out)") }
            } else {
                FileHandleOutput.standardOutput(json)
            }
            FileHandleOutput.standardError(Self.describe(result) + "\n")
        } catch let error as MarginError {
            failInput(error.description)
        }
    }

    static func describe(_ result: RiskModelCalibrator.Result) -> String {
        var lines = ["calibrated \(UTCDay.format(result.fromDay))..\(UTCDay.format(result.toDay)) (common days): \(result.scenarios.scenarioCount) \(result.scenarios.source.rawValue) scenarios"]
        for (name, u) in result.underlyings.sorted(by: { $0.key < $1.key }) {
            let annual = 365.0.squareRoot()
            let model = result.fits[name].map { $0.model.rawValue + ($0.note == nil ? "" : " (fallback: ewma)") } ?? "ewma"
            let history = result.histories[name].map { " on \(UTCDay.format($0.lowerBound))..\(UTCDay.format($0.upperBound))" } ?? ""
            lines.append(String(format: "  %@%@: %@ vol %.1f%%, stress vol %.1f%%, applied %.1f%%; price range -%.2f%%/+%.2f%% (without APC -%.2f%%/+%.2f%%)%@",
                                name, history, model, u.forecastVolatility * annual * 100, u.stressVolatility * annual * 100, u.appliedVolatility * annual * 100,
                                (1 - exp(-u.priceRange)) * 100, (exp(u.priceRange) - 1) * 100,
                                (1 - exp(-u.priceRangeWithoutAPC)) * 100, (exp(u.priceRangeWithoutAPC) - 1) * 100, u.phasedIn ? ", phased in" : ""))
        }
        return lines.joined(separator: "\n")
    }
}
