import MarginCore

extension RiskParameters {
    /// The wire form (the inverse of ``init(proto:)``): what `calibrate` writes and the calibrator publishes.
    public var proto: Margin_V1_RiskParameters {
        var p = Margin_V1_RiskParameters()
        p.id = id
        p.version = version
        p.summary = summary
        p.valuationAsset = valuationAsset
        for (underlying, unit) in riskUnits { p.riskUnits[underlying] = unit.proto }
        for (asset, c) in collateral {
            var x = Margin_V1_CollateralParameters()
            x.maintenanceHaircut = c.maintenanceHaircut
            x.initialHaircut = c.initialHaircut
            x.riskLinked = c.riskLinked
            p.collateral[asset] = x
        }
        if let rule = confidenceContingency {
            p.confidenceContingency.threshold = rule.threshold
            p.confidenceContingency.margin = rule.margin
        }
        if let rule = stablecoinPeg {
            p.stablecoinPeg.threshold = rule.threshold
            p.stablecoinPeg.factor = rule.factor
        }
        if decorrelation != 1 { p.decorrelation = decorrelation }
        if let set = historicalSimulation { p.historicalSimulation = set.proto }
        p.provenance = provenance
        return p
    }
}

extension RiskUnitParameters {
    var proto: Margin_V1_RiskUnitParameters {
        var p = Margin_V1_RiskUnitParameters()
        p.scenarios = scenarios.map { s in
            var x = Margin_V1_Scenario()
            x.spotShock = s.spotShock
            switch s.volatilityShock {
            case .none: x.volatilityShock = .none
            case .up: x.volatilityShock = .up
            case .down: x.volatilityShock = .down
            case .skewLinear: x.volatilityShock = .skewLinear
            case .skewAbsolute: x.volatilityShock = .skewAbsolute
            }
            if s.dampening != 1 { x.dampening = s.dampening }
            switch s.kind {
            case .regular: x.kind = .regular
            case .tail: x.kind = .tail
            case .skew: x.kind = .skew
            case .historical: x.kind = .unspecified  // never in a grid (validate refuses it)
            }
            return x
        }
        let v = volatilityShock
        p.volatilityShock.rangeUp = v.rangeUp
        p.volatilityShock.rangeDown = v.rangeDown
        p.volatilityShock.shortTermPower = v.shortTermPower
        p.volatilityShock.longTermPower = v.longTermPower
        p.volatilityShock.dteFloorDays = v.dteFloorDays
        p.volatilityShock.minimumVolatilityUp = v.minimumVolatilityUp
        p.volatilityShock.referenceDays = v.referenceDays
        p.volatilityShock.termSwitchDays = v.termSwitchDays
        if let k = skewShock {
            p.skewShock.linearBaseCap = k.linearBaseCap
            p.skewShock.linearCBase = k.linearCBase
            p.skewShock.absoluteBaseCap = k.absoluteBaseCap
            p.skewShock.absoluteCBase = k.absoluteCBase
            p.skewShock.minKStar = k.minKStar
            p.skewShock.widthScale = k.widthScale
            p.skewShock.volParamStatic = k.volParamStatic
            p.skewShock.volParamScale = k.volParamScale
        }
        if let clamp = smile.wingClampMultiple { p.smile.wingClampMultiple = clamp }
        if let cap = smile.maxTotalVariance { p.smile.maxTotalVariance = cap }
        if let d = staticDiscount {
            p.staticDiscount.positiveBase = d.positiveBase
            p.staticDiscount.positiveRateMultiplier = d.positiveRateMultiplier
            p.staticDiscount.positiveRateAdd = d.positiveRateAdd
            p.staticDiscount.negativeBase = d.negativeBase
            p.staticDiscount.negativeRateMultiplier = d.negativeRateMultiplier
            p.staticDiscount.negativeRateAdd = d.negativeRateAdd
        }
        if let b = basisContingency {
            p.basisContingency.spotUp = b.spotUp
            p.basisContingency.spotDown = b.spotDown
            p.basisContingency.addFactor = b.addFactor
            p.basisContingency.multFactor = b.multFactor
        }
        if let c = shortOptionContingency {
            p.shortOptionContingency.maintenance = c.maintenance
            p.shortOptionContingency.initial = c.initial
        }
        if let c = deltaOneContingency {
            p.deltaOneContingency.maintenance = c.maintenance
            p.deltaOneContingency.initial = c.initial
        }
        p.maintenanceFactor = maintenanceFactor
        p.initialFactor = initialFactor
        p.deltaOneInTail = deltaOneInTail.proto
        p.extendedDampener = extendedDampener
        p.scenarioAgingDays = scenarioAgingDays
        if let credit = gainCredit {
            p.gainCredit.pnlOffset = credit.pnlOffset
            if let cap = credit.maxOffsetablePnl { p.gainCredit.maxOffsetablePnl = cap }
        }
        if let roll = rollShock {
            p.rollShock.annualisedMoveRisk = roll.annualisedMoveRisk
            p.rollShock.minAnnualisedMove = roll.minimumAnnualisedMove
        }
        if let delta = deltaShock {
            p.deltaShock.maxDeltaShock = delta.maxShock
            p.deltaShock.liquidityThreshold = delta.liquidityThreshold
        }
        if let model = liquidityCost { p.liquidityCost = model.proto }
        if let rule = liquidityAddOn { p.liquidityAddOn = rule.proto }
        if let rule = concentrationAddOn { p.concentrationAddOn = rule.proto }
        return p
    }
}
