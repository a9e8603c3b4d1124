import MarginCore

extension RiskParameters {
    /// Builds and validates a parameter set from its wire form.
    public init(proto p: Margin_V1_RiskParameters) throws(MarginError) {
        var units: [String: RiskUnitParameters] = [:]
        for (underlying, u) in p.riskUnits {
            let scenarios = u.scenarios.map { s -> Scenario in
                let shock: Scenario.VolatilityShock
                switch s.volatilityShock {
                case .none, .UNRECOGNIZED: shock = .none
                case .up: shock = .up
                case .down: shock = .down
                case .skewLinear: shock = .skewLinear
                case .skewAbsolute: shock = .skewAbsolute
                }
                let kind: Scenario.Kind?
                switch s.kind {
                case .regular: kind = .regular
                case .tail: kind = .tail
                case .skew: kind = .skew
                case .unspecified, .UNRECOGNIZED: kind = nil
                }
                return Scenario(spotShock: s.spotShock, volatilityShock: shock, dampening: s.hasDampening ? s.dampening : 1, kind: kind)
            }
            let v = u.volatilityShock
            let k = u.skewShock
            units[underlying] = RiskUnitParameters(
                scenarios: scenarios,
                volatilityShock: VolatilityShockRule(
                    rangeUp: v.rangeUp, rangeDown: v.rangeDown, shortTermPower: v.shortTermPower, longTermPower: v.longTermPower,
                    dteFloorDays: v.hasDteFloorDays ? v.dteFloorDays : 1, minimumVolatilityUp: v.minimumVolatilityUp,
                    referenceDays: v.hasReferenceDays ? v.referenceDays : 30, termSwitchDays: v.hasTermSwitchDays ? v.termSwitchDays : 30),
                skewShock: u.hasSkewShock ? SkewShockRule(
                    linearBaseCap: k.linearBaseCap, linearCBase: k.linearCBase, absoluteBaseCap: k.absoluteBaseCap,
                    absoluteCBase: k.absoluteCBase, minKStar: k.minKStar, widthScale: k.widthScale,
                    volParamStatic: k.volParamStatic, volParamScale: k.volParamScale) : nil,
                smile: SmileEvaluation(wingClampMultiple: u.smile.hasWingClampMultiple ? u.smile.wingClampMultiple : nil,
                                       maxTotalVariance: u.smile.hasMaxTotalVariance ? u.smile.maxTotalVariance : nil),
                staticDiscount: u.hasStaticDiscount ? StaticDiscountRule(
                    positiveBase: u.staticDiscount.positiveBase, positiveRateMultiplier: u.staticDiscount.positiveRateMultiplier,
                    positiveRateAdd: u.staticDiscount.positiveRateAdd, negativeBase: u.staticDiscount.negativeBase,
                    negativeRateMultiplier: u.staticDiscount.negativeRateMultiplier, negativeRateAdd: u.staticDiscount.negativeRateAdd) : nil,
                basisContingency: u.hasBasisContingency ? BasisContingencyRule(
                    spotUp: u.basisContingency.spotUp, spotDown: u.basisContingency.spotDown,
                    addFactor: u.basisContingency.addFactor, multFactor: u.basisContingency.multFactor) : nil,
                shortOptionContingency: u.hasShortOptionContingency
                    ? PercentContingency(maintenance: u.shortOptionContingency.maintenance, initial: u.shortOptionContingency.initial) : nil,
                deltaOneContingency: u.hasDeltaOneContingency
                    ? PercentContingency(maintenance: u.deltaOneContingency.maintenance, initial: u.deltaOneContingency.initial) : nil,
                maintenanceFactor: u.maintenanceFactor, initialFactor: u.initialFactor,
                liquidityCost: u.hasLiquidityCost
                    ? try LiquidityCostModel(proto: u.liquidityCost, field: "params.risk_units[\(underlying)].liquidity_cost") : nil,
                liquidityAddOn: u.hasLiquidityAddOn ? LiquidityAddOnRule(proto: u.liquidityAddOn) : nil,
                concentrationAddOn: u.hasConcentrationAddOn
                    ? try ConcentrationAddOnRule(proto: u.concentrationAddOn, field: "params.risk_units[\(underlying)].concentration_add_on") : nil,
                deltaOneInTail: try DeltaOneTailTreatment(proto: u.deltaOneInTail, field: "params.risk_units[\(underlying)].delta_one_in_tail"),
                extendedDampener: u.extendedDampener,
                gainCredit: u.hasGainCredit
                    ? GainCreditRule(pnlOffset: u.gainCredit.pnlOffset,
                                     maxOffsetablePnl: u.gainCredit.hasMaxOffsetablePnl ? u.gainCredit.maxOffsetablePnl : nil) : nil,
                rollShock: u.hasRollShock
                    ? RollShockRule(annualisedMoveRisk: u.rollShock.annualisedMoveRisk, minimumAnnualisedMove: u.rollShock.minAnnualisedMove) : nil,
                deltaShock: u.hasDeltaShock
                    ? DeltaShockRule(maxShock: u.deltaShock.maxDeltaShock, liquidityThreshold: u.deltaShock.liquidityThreshold) : nil)
            units[underlying]?.scenarioAgingDays = u.scenarioAgingDays
        }
        var collateral: [String: CollateralParameters] = [:]
        for (asset, c) in p.collateral {
            collateral[asset] = CollateralParameters(maintenanceHaircut: c.maintenanceHaircut, initialHaircut: c.initialHaircut, riskLinked: c.riskLinked)
        }
        self.init(id: p.id, version: p.version, summary: p.summary, valuationAsset: p.valuationAsset,
                  riskUnits: units, collateral: collateral,
                  confidenceContingency: p.hasConfidenceContingency
                      ? ConfidenceContingencyRule(threshold: p.confidenceContingency.threshold, margin: p.confidenceContingency.margin) : nil,
                  stablecoinPeg: p.hasStablecoinPeg
                      ? StablecoinPegRule(threshold: p.stablecoinPeg.threshold, factor: p.stablecoinPeg.factor) : nil,
                  decorrelation: p.hasDecorrelation ? p.decorrelation : 1,
                  historicalSimulation: p.hasHistoricalSimulation ? try HistoricalScenarioSet(proto: p.historicalSimulation) : nil,
                  provenance: p.provenance)
        try validate()
    }
}

extension DeltaOneTailTreatment {
    init(proto: Margin_V1_DeltaOneTail, field: String) throws(MarginError) {
        switch proto {
        case .shocked: self = .shocked
        case .standardRangeEdge: self = .standardRangeEdge
        case .UNRECOGNIZED(let value): throw .invalidInput(field: field, reason: "unknown value \(value)")
        }
    }

    var proto: Margin_V1_DeltaOneTail {
        switch self {
        case .shocked: return .shocked
        case .standardRangeEdge: return .standardRangeEdge
        }
    }
}
