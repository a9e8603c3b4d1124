import MarginCore

extension HistoricalScenarioSet {
    /// Builds a joint scenario set from its wire form (validated by ``RiskParameters/validate()``).
    public init(proto p: Margin_V1_HistoricalSimulation) throws(MarginError) {
        let field = "params.historical_simulation"
        func parse<T: RawRepresentable<String>>(_ text: String, default value: T, _ name: String) throws(MarginError) -> T {
            if text.isEmpty { return value }
            guard let parsed = T(rawValue: text) else { throw .invalidInput(field: "\(field).\(name)", reason: "unknown value `\(text)`") }
            return parsed
        }
        var returns: [String: [Double]] = [:]
        for (underlying, series) in p.logReturns { returns[underlying] = series.values }
        var multipliers: [String: [Double]] = [:]
        for (underlying, series) in p.volatilityMultipliers { multipliers[underlying] = series.values }
        self.init(
            source: try parse(p.source, default: .historical, "source"),
            measure: try parse(p.measure, default: .expectedShortfall, "measure"),
            confidence: p.hasConfidence ? p.confidence : 0.99,
            horizonDays: p.hasHorizonDays ? Int(p.horizonDays) : 2,
            volatilityTreatment: try parse(p.volatilityTreatment, default: .worstOfGrid, "volatility_treatment"),
            combination: p.hasFhsWeight ? .weighted(p.fhsWeight) : .maximum,
            labels: p.labels, logReturns: returns, volatilityMultipliers: multipliers)
    }

    /// The wire form.
    public var proto: Margin_V1_HistoricalSimulation {
        var p = Margin_V1_HistoricalSimulation()
        p.source = source.rawValue
        p.measure = measure.rawValue
        p.confidence = confidence
        p.horizonDays = Int32(horizonDays)
        p.volatilityTreatment = volatilityTreatment.rawValue
        if case .weighted(let x) = combination { p.fhsWeight = x }
        p.labels = labels
        for (underlying, values) in logReturns {
            var series = Margin_V1_ScenarioReturns()
            series.values = values
            p.logReturns[underlying] = series
        }
        for (underlying, values) in volatilityMultipliers {
            var series = Margin_V1_ScenarioReturns()
            series.values = values
            p.volatilityMultipliers[underlying] = series
        }
        return p
    }
}

extension AccountRiskBreakdown {
    /// The wire form.
    var proto: Margin_V1_RiskModelBreakdown {
        var p = Margin_V1_RiskModelBreakdown()
        p.gridSum = gridSum
        p.gridJoint = gridJoint
        p.decorrelation = decorrelation
        p.gridLoss = gridLoss
        p.correlationContingency = correlationContingency
        p.riskLoss = riskLoss
        p.binding = binding.rawValue
        if let h = historical {
            var x = Margin_V1_HistoricalComponent()
            x.source = h.source.rawValue
            x.measure = h.measure.rawValue
            x.confidence = h.confidence
            x.horizonDays = Int32(h.horizonDays)
            x.scenarioCount = Int32(h.scenarioCount)
            x.valueAtRisk = h.valueAtRisk
            x.expectedShortfall = h.expectedShortfall
            x.loss = h.loss
            x.standardError = h.standardError
            x.worstScenarios = h.worstScenarios.map { s in
                var w = Margin_V1_ScenarioPnl()
                w.label = s.label
                w.pnl = s.pnl
                return w
            }
            x.contributions = h.contributions.map(\.proto)
            x.uncoveredUnderlyings = h.uncoveredUnderlyings
            p.historical = x
        }
        return p
    }
}

extension PositionContribution {
    var proto: Margin_V1_PositionContribution {
        var x = Margin_V1_PositionContribution()
        x.name = name
        x.quantity = quantity
        x.pnl = pnl
        return x
    }
}
