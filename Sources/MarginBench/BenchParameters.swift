import CommandLineSupport
import Foundation
import MarginCore
import MarginDemo
import MarginSchema

/// The parameter set a worker benchmark margins with (`--params`):
/// - `demo`: the demo's opening calibrated set (the live calibrator's first version on the 2020
///   BTC chain, FHS on: the configuration the product recommends);
/// - a shipped preset by name (`deribit-like`, `derive-pmrm2`: grid only);
/// - a `margin.v1.RiskParameters` JSON file.
struct BenchParameters {
    var parameters: RiskParameters
    /// What `--params` named.
    var source: String

    static let demo = "demo"

    init(_ spec: String) throws {
        source = spec
        if spec == Self.demo {
            parameters = try DemoCalibration.openingParameters()
        } else if RiskPresets.names.contains(spec) {
            parameters = try RiskPresets.load(spec)
        } else {
            let data = readInputFile(spec, what: "params")
            parameters = try RiskParameters(proto: SchemaCoding.decode(Margin_V1_RiskParameters.self, from: data, format: .json))
        }
        try parameters.validate()
    }

    /// Joint scenarios of the set (0 without a dynamic model) and columns per option they add.
    var fhsScenarios: Int { parameters.historicalSimulation?.scenarioCount ?? 0 }
    var fhsColumns: Int { parameters.historicalSimulation.map { $0.scenarioCount * $0.columnsPerScenario } ?? 0 }

    /// For people: `params demo (calibrated v1, 900 FHS scenarios, 2,700 columns per option)`.
    var description: String {
        "params \(source) (\(parameters.id) v\(parameters.version), " + (fhsScenarios > 0 ? "\(fhsScenarios) FHS scenarios, \(fhsColumns) columns per option)" : "grid only)")
    }

    /// The figures' description of the set.
    var json: [String: Any] {
        ["params": source, "params_id": parameters.id, "params_version": parameters.version, "fhs_scenarios": fhsScenarios, "fhs_columns": fhsColumns]
    }
}
