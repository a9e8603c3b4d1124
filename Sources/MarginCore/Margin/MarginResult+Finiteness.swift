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
        // Names are built only for the field that fails (this runs on every published result).
        func bad(_ value: Double) -> Bool { !value.isFinite }
        for (name, value) in [("gross_equity", grossEquity), ("equity", equity), ("initial_equity", initialEquity),
                              ("maintenance_requirement", maintenanceRequirement), ("initial_requirement", initialRequirement),
                              ("risk_model.grid_sum", riskModel.gridSum), ("risk_model.grid_joint", riskModel.gridJoint),
                              ("risk_model.grid_loss", riskModel.gridLoss), ("risk_model.risk_loss", riskModel.riskLoss)] where bad(value) {
            return name
        }
        if let h = riskModel.historical {
            for (name, value) in [("value_at_risk", h.valueAtRisk), ("expected_shortfall", h.expectedShortfall), ("loss", h.loss),
                                  ("standard_error", h.standardError)] where bad(value) {
                return "risk_model.historical.\(name)"
            }
            if let s = h.worstScenarios.first(where: { bad($0.pnl) }) { return "risk_model.historical.worst_scenarios[\(s.label)].pnl" }
            if let c = h.contributions.first(where: { bad($0.pnl) }) { return "risk_model.historical.contributions[\(c.name)].pnl" }
        }
        for unit in riskUnits {
            let u = "risk_units[\(unit.underlying)]"
            for (name, value) in [("basis_contingency", unit.basisContingency), ("worst_loss", unit.worstLoss), ("allocated_loss", unit.allocatedLoss),
                                  ("maintenance_requirement", unit.maintenanceRequirement), ("initial_requirement", unit.initialRequirement),
                                  ("mark_to_market", unit.markToMarket), ("index_price", unit.indexPrice)] where bad(value) {
                return "\(u).\(name)"
            }
            if let index = unit.scenarioPnLs.firstIndex(where: bad) { return "\(u).scenario_pnls[\(index)]" }
            if let c = unit.contributions.first(where: { bad($0.pnl) }) { return "\(u).contributions[\(c.name)].pnl" }
            for c in unit.contingencies {
                if bad(c.maintenance) { return "\(u).contingencies[\(c.name)].maintenance" }
                if bad(c.initial) { return "\(u).contingencies[\(c.name)].initial" }
            }
        }
        for c in accountContingencies {
            if bad(c.maintenance) { return "account_contingencies[\(c.name)].maintenance" }
            if bad(c.initial) { return "account_contingencies[\(c.name)].initial" }
        }
        for c in equityComponents {
            for (name, value) in [("value", c.value), ("price", c.price), ("maintenance_haircut", c.maintenanceHaircut),
                                  ("initial_haircut", c.initialHaircut)] where bad(value) {
                return "equity_components[\(c.name)].\(name)"
            }
        }
        return nil
    }
}
