extension MarginSummary {
    /// Whether every amount is finite (an output never carries NaN or infinity).
    public var isFinite: Bool {
        grossEquity.isFinite && equity.isFinite && initialEquity.isFinite && maintenanceRequirement.isFinite && initialRequirement.isFinite
    }
}

extension MarginResult {
    /// The first number of the result that is NaN or infinite, named like the schema field, or nil.
    /// The worker, the HTTP what-if and the CLI refuse to emit such a result (an error instead).
    public var firstNonFiniteField: String? {
        var checks: [(String, Double)] = [
            ("gross_equity", grossEquity), ("equity", equity), ("initial_equity", initialEquity),
            ("maintenance_requirement", maintenanceRequirement), ("initial_requirement", initialRequirement),
            ("risk_model.grid_sum", riskModel.gridSum), ("risk_model.grid_joint", riskModel.gridJoint),
            ("risk_model.grid_loss", riskModel.gridLoss), ("risk_model.risk_loss", riskModel.riskLoss),
        ]
        if let h = riskModel.historical {
            checks += [("risk_model.historical.value_at_risk", h.valueAtRisk), ("risk_model.historical.expected_shortfall", h.expectedShortfall),
                       ("risk_model.historical.loss", h.loss), ("risk_model.historical.standard_error", h.standardError)]
            checks += h.worstScenarios.map { ("risk_model.historical.worst_scenarios[\($0.label)].pnl", $0.pnl) }
            checks += h.contributions.map { ("risk_model.historical.contributions[\($0.name)].pnl", $0.pnl) }
        }
        for unit in riskUnits {
            let u = "risk_units[\(unit.underlying)]"
            checks += [("\(u).basis_contingency", unit.basisContingency), ("\(u).worst_loss", unit.worstLoss),
                       ("\(u).allocated_loss", unit.allocatedLoss), ("\(u).maintenance_requirement", unit.maintenanceRequirement),
                       ("\(u).initial_requirement", unit.initialRequirement), ("\(u).mark_to_market", unit.markToMarket),
                       ("\(u).index_price", unit.indexPrice)]
            checks += unit.scenarioPnLs.enumerated().map { ("\(u).scenario_pnls[\($0.offset)]", $0.element) }
            checks += unit.contributions.map { ("\(u).contributions[\($0.name)].pnl", $0.pnl) }
            for c in unit.contingencies { checks += [("\(u).contingencies[\(c.name)].maintenance", c.maintenance), ("\(u).contingencies[\(c.name)].initial", c.initial)] }
        }
        for c in accountContingencies { checks += [("account_contingencies[\(c.name)].maintenance", c.maintenance), ("account_contingencies[\(c.name)].initial", c.initial)] }
        for c in equityComponents {
            checks += [("equity_components[\(c.name)].value", c.value), ("equity_components[\(c.name)].price", c.price),
                       ("equity_components[\(c.name)].maintenance_haircut", c.maintenanceHaircut), ("equity_components[\(c.name)].initial_haircut", c.initialHaircut)]
        }
        return checks.first { !$0.1.isFinite }?.0
    }
}
