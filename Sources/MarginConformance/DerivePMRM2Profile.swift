import Foundation
import MarginCore

/// The engine's methodology profile reproducing Derive's portfolio margin risk manager PMRM_2
/// (derivexyz/v2-core `src/risk-managers/PMRMLib_2.sol`, `PMRM_2.sol`).
///
/// It is assembled from the engine's general components — scenario grid with dampened tails and
/// skew tilts, term-scaled vol shocks with a minimum evaluated vol, ``StaticDiscountRule``,
/// ``BasisContingencyRule``, ``PercentContingency`` for naked shorts and perpetuals,
/// ``ConfidenceContingencyRule``, ``StablecoinPegRule`` and collateral haircuts. What is specific to
/// PMRM_2 is named here:
/// - ``smileEvaluation``: SVI evaluated with log-moneyness clamped to ±4·√(a + bσ) and total
///   variance capped at 144 (Derive's `SVI.sol`);
/// - ``regularScenarioCount``: which scenarios PMRM_2 reports as regular and which as tails;
/// - ``settlementWindowSeconds``: within 30 minutes of expiry the forward's fixed portion
///   `F·(1800 − s)/1800` does not move with spot shocks;
/// - the sign convention of its results: PMRM_2 reports margin as a signed surplus
///   (`MM = equity − maintenance requirement`), contingencies as negative numbers and its IM
///   contingencies net of the maintenance ones.
public enum DerivePMRM2Profile {
    public static let smileEvaluation = SmileEvaluation(wingClampMultiple: 4, maxTotalVariance: 144)
    public static let settlementWindowSeconds = 1800.0
    /// PMRM_2's scenario list starts with its regular grid of 23 spot × vol points; further
    /// non-skew scenarios are tails (reported apart, usually dampened).
    public static let regularScenarioCount = 23

    /// Result fields compared besides the scenario PnLs, in this order.
    public static let comparedFields = [
        "ForwardContingency", "MMPerpCont", "IMPerpCont", "MMOptionCont", "IMOptionCont",
        "MMBaseCont", "IMBaseCont", "OracleCont", "PortfolioMTM", "MM", "IM",
    ]

    /// The engine's values for the fields of ``DerivePMRM2Case/expected``, by field name.
    public static func evaluate(_ testCase: DerivePMRM2Case) throws(MarginError) -> [String: Double] {
        let calculator = MarginCalculator(parameters: testCase.parameters)
        let result = try calculator.margin(account: testCase.account, catalog: testCase.catalog, markets: testCase.markets, asOfMs: DerivePMRM2Case.timeBaseMs)
        var values: [String: Double] = [:]
        let unit = result.riskUnits.first { $0.underlying == DerivePMRM2Case.underlying }
        let scenarios = testCase.parameters.riskUnits[DerivePMRM2Case.underlying]?.scenarios ?? []
        var counters: [Scenario.Kind: Int] = [:]
        for (index, scenario) in scenarios.enumerated() {
            let group: String
            switch scenario.kind {
            case .regular: group = "reg_losses"
            case .tail: group = "tail_losses"
            case .skew: group = "skew_losses"
            }
            let position = counters[scenario.kind, default: 0]
            counters[scenario.kind] = position + 1
            values["\(group)[\(position)]"] = unit?.scenarioPnLs[index] ?? 0
        }
        func charge(_ name: String) -> ContingencyCharge? {
            unit?.contingencies.first { $0.name == name } ?? result.accountContingencies.first { $0.name == name }
        }
        let deltaOne = charge("delta_one_notional")
        let shortOption = charge("short_option")
        let oracle = (charge("oracle_confidence")?.initial ?? 0) + (charge("collateral_confidence")?.initial ?? 0)
        values["ForwardContingency"] = unit?.basisContingency ?? 0
        values["MMPerpCont"] = -(deltaOne?.maintenance ?? 0)
        values["IMPerpCont"] = -((deltaOne?.initial ?? 0) - (deltaOne?.maintenance ?? 0))
        values["MMOptionCont"] = -(shortOption?.maintenance ?? 0)
        values["IMOptionCont"] = -((shortOption?.initial ?? 0) - (shortOption?.maintenance ?? 0))
        let maintenanceHaircuts = result.equityComponents.reduce(0) { $0 + $1.maintenanceHaircut }
        let initialHaircuts = result.equityComponents.reduce(0) { $0 + $1.initialHaircut }
        values["MMBaseCont"] = -maintenanceHaircuts
        values["IMBaseCont"] = -(initialHaircuts - maintenanceHaircuts)
        values["OracleCont"] = -oracle
        values["PortfolioMTM"] = result.grossEquity
        values["MM"] = result.equity - result.maintenanceRequirement
        values["IM"] = result.initialEquity - result.initialRequirement
        return values
    }

    /// The outcome of one case: nil when every field agrees, else the first differing field.
    public struct Mismatch: Sendable {
        public var field: String
        public var expected: Double
        public var actual: Double?
        public var error: String?
    }

    /// Relative tolerance 1e-8, absolute 1e-6 near zero.
    public static func agrees(_ actual: Double, _ expected: Double) -> Bool {
        guard actual.isFinite else { return false }
        return abs(actual - expected) <= max(1e-6, 1e-8 * abs(expected))
    }

    /// Compares every expected field of `testCase` and returns the first mismatch, if any.
    public static func check(_ testCase: DerivePMRM2Case) -> Mismatch? {
        let values: [String: Double]
        do {
            values = try evaluate(testCase)
        } catch {
            return Mismatch(field: "margin", expected: .nan, actual: nil, error: error.description)
        }
        for (field, expected) in testCase.expected {
            guard let actual = values[field] else { return Mismatch(field: field, expected: expected, actual: nil, error: "not computed") }
            if !agrees(actual, expected) { return Mismatch(field: field, expected: expected, actual: actual, error: nil) }
        }
        return nil
    }
}
