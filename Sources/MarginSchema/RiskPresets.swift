import Foundation
import MarginCore

/// The parameter presets shipped with the engine, as protobuf-JSON files in `Presets/`:
/// - `deribit-like`: modelled on Deribit's published portfolio-margin parameters for BTC and ETH;
/// - `derive-pmrm2`: Derive's PMRM_2 scenario set and contingencies (the parameters of its golden cases).
public enum RiskPresets {
    public static let names = ["deribit-like", "derive-pmrm2"]

    /// The preset's JSON text.
    public static func json(named name: String) throws(MarginError) -> Data {
        guard names.contains(name), let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Presets"),
              let data = try? Data(contentsOf: url) else {
            throw .invalidInput(field: "preset", reason: "unknown preset '\(name)' (known: \(names.joined(separator: ", ")))")
        }
        return data
    }

    /// The preset as a validated parameter set.
    public static func load(_ name: String) throws(MarginError) -> RiskParameters {
        try RiskParameters(proto: SchemaCoding.decode(Margin_V1_RiskParameters.self, from: json(named: name), format: .json))
    }
}
