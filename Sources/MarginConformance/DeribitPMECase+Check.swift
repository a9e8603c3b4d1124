import MarginCore

extension DeribitPMECase {
    /// Absolute tolerance: Deribit rounds some intermediates (RMM recomputed from its inputs
    /// differs by 3.8e-10 in the published example).
    public static let tolerance = 1e-9

    /// The engine's values of one currency run, by the field names of ``CurrencyRun/expected``, and
    /// the worst case's bucket.
    ///
    /// Instrument vectors come from margining each position alone (its unadjusted scenario PnLs),
    /// the aggregated vector from the whole portfolio (adjusted, and unadjusted for the
    /// pre-aggregated one); RMM = worst case + delta shock + roll shock + correlation contingency,
    /// MM = the engine's maintenance requirement, IM = its initial requirement + `spot_margin` +
    /// `mmp_margin` + `open_orders_margin`.
    public static func evaluate(_ run: CurrencyRun, timestampMs: Int64) throws(MarginError)
        -> (values: [String: Double], bucket: DeribitPMEProfile.WorstCaseBucket?) {
        let calculator = MarginCalculator(parameters: run.parameters)
        func margin(_ positions: [Position]) throws(MarginError) -> MarginResult {
            var account = run.account
            account.positions = positions
            return try calculator.margin(account: account, catalog: run.catalog, markets: run.markets, asOfMs: timestampMs)
        }
        var values: [String: Double] = [:]
        let standardCount = run.parameters.riskUnits.values.first?.scenarios.filter { $0.kind == .regular }.count ?? 0
        func record(_ prefix: String, _ vector: [Double]) {
            for (index, value) in vector.enumerated() {
                let part = index < standardCount ? "standard[\(index)]" : "extended[\(index - standardCount)]"
                values["\(prefix).\(part)"] = value
            }
        }
        for position in run.account.positions {
            let unit = try margin([position]).riskUnits.first
            let vector = unit.map { $0.unadjustedScenarioPnLs.isEmpty ? $0.scenarioPnLs : $0.unadjustedScenarioPnLs } ?? []
            record("initial_risk_vectors.\(position.instrument)", vector)
        }
        let result = try margin(run.account.positions)
        var worstCase = 0.0, deltaShock = 0.0, rollShock = 0.0
        var bucket: DeribitPMEProfile.WorstCaseBucket?
        var worstUnit: RiskUnitMargin?
        for unit in result.riskUnits {
            guard let key = run.vectorKeys[unit.underlying] else { continue }
            record("aggregated_risk_vectors.\(key)", unit.scenarioPnLs)
            record("pre_aggregated_risk_vectors.\(key)", unit.unadjustedScenarioPnLs.isEmpty ? unit.scenarioPnLs : unit.unadjustedScenarioPnLs)
            if worstUnit == nil || unit.worstLoss > worstUnit!.worstLoss { worstUnit = unit }
            worstCase += unit.worstLoss
            let factors = (maintenance: unit.maintenanceFactor, initial: unit.initialFactor)
            for charge in unit.contingencies where factors.initial > 0 {
                if charge.name == "delta_shock" { deltaShock += charge.initial / factors.initial }
                if charge.name == "roll_shock" { rollShock += charge.initial / factors.initial }
            }
        }
        if let binding = worstUnit?.bindingScenario { bucket = DeribitPMEProfile.bucket(ofColumn: binding, bucketsPerSide: run.bucketsPerSide) }
        let correlation = result.riskModel.correlationContingency
        values["risk_matrix_margin_details.worst_case"] = worstCase
        values["risk_matrix_margin_details.delta_shock"] = deltaShock
        values["risk_matrix_margin_details.roll_shock"] = rollShock
        values["risk_matrix_margin_details.correlation_contingency"] = correlation
        values["risk_matrix_margin"] = worstCase + deltaShock + rollShock + correlation
        values["maintenance_margin"] = result.maintenanceRequirement
        values["initial_margin"] = result.initialRequirement + run.spotMargin + run.mmpMargin + run.openOrdersMargin
        return (values, bucket)
    }

    /// The first disagreement of the case, or nil when every compared field agrees.
    public func check() -> ConformanceMismatch? {
        for run in runs {
            let computed: (values: [String: Double], bucket: DeribitPMEProfile.WorstCaseBucket?)
            do {
                computed = try Self.evaluate(run, timestampMs: timestampMs)
            } catch {
                return ConformanceMismatch(field: "margins.\(run.currency)", expected: .nan, actual: nil, error: error.description)
            }
            for (field, expected) in run.expected {
                let name = "margins.\(run.currency): \(field)"
                guard let actual = computed.values[field] else { return ConformanceMismatch(field: name, expected: expected, actual: nil, error: "not computed") }
                if !(abs(actual - expected) <= Self.tolerance) { return ConformanceMismatch(field: name, expected: expected, actual: actual, error: nil) }
            }
            if let expected = run.expectedBucket, computed.bucket != expected {
                return ConformanceMismatch(field: "margins.\(run.currency): worst_case_bucket", expected: .nan, actual: nil,
                                error: "expected \(expected), got \(computed.bucket.map(\.description) ?? "none")")
            }
        }
        return nil
    }

    /// How many values a run compares (for the report line).
    public var comparedCount: Int { runs.reduce(0) { $0 + $1.expected.count + ($1.expectedBucket == nil ? 0 : 1) } }
}
