import MarginCore

extension LiquidityCostModel {
    /// From the wire form (absent fields take the documented defaults).
    init(proto p: Margin_V1_LiquidityCostModel, field: String) throws(MarginError) {
        let impact: ImpactModel
        switch p.impactModel {
        case "", "almgren": impact = .almgren(eta: p.hasEta ? p.eta : 0.142, beta: p.hasBeta ? p.beta : 0.6)
        case "square_root": impact = .squareRoot(y: p.hasSquareRootY ? p.squareRootY : 1)
        default: throw .invalidInput(field: "\(field).impact_model", reason: "must be \"almgren\" or \"square_root\", got \"\(p.impactModel)\"")
        }
        let defaults = LiquidityCostModel.standard
        self.init(impact: impact, horizonDays: p.hasHorizonDays ? p.horizonDays : defaults.horizonDays,
                  noBookHalfSpread: p.hasNoBookHalfSpread ? p.noBookHalfSpread : defaults.noBookHalfSpread,
                  fallbackVolatility: p.hasFallbackVolatility ? p.fallbackVolatility : defaults.fallbackVolatility,
                  stubBandSigmas: p.hasStubBandSigmas ? p.stubBandSigmas : defaults.stubBandSigmas)
    }

    var proto: Margin_V1_LiquidityCostModel {
        var p = Margin_V1_LiquidityCostModel()
        p.impactModel = impact.name
        switch impact {
        case .almgren(let eta, let beta):
            p.eta = eta
            p.beta = beta
        case .squareRoot(let y):
            p.squareRootY = y
        }
        p.horizonDays = horizonDays
        p.noBookHalfSpread = noBookHalfSpread
        p.fallbackVolatility = fallbackVolatility
        p.stubBandSigmas = stubBandSigmas
        return p
    }
}

extension LiquidityAddOnRule {
    init(proto p: Margin_V1_LiquidityAddOnRule) {
        self.init(maintenanceFraction: p.maintenanceFraction, netDeltaOneAcrossExpiries: p.netDeltaOneAcrossExpiries)
    }

    var proto: Margin_V1_LiquidityAddOnRule {
        var p = Margin_V1_LiquidityAddOnRule()
        p.maintenanceFraction = maintenanceFraction
        p.netDeltaOneAcrossExpiries = netDeltaOneAcrossExpiries
        return p
    }
}

extension ConcentrationAddOnRule {
    /// From the wire form: an absent threshold fraction is not used; absent shape parameters take
    /// their defaults (imf 0.005, ramp multiple 2).
    init(proto p: Margin_V1_ConcentrationAddOnRule, field: String) throws(MarginError) {
        let shape: Shape
        switch p.shape {
        case "", "size_premium": shape = .sizePremium(imfFactor: p.hasImfFactor ? p.imfFactor : 0.005)
        case "open_interest_ramp": shape = .openInterestRamp(upperMultiple: p.hasRampUpperMultiple ? p.rampUpperMultiple : 2)
        default: throw .invalidInput(field: "\(field).shape", reason: "must be \"size_premium\" or \"open_interest_ramp\", got \"\(p.shape)\"")
        }
        self.init(openInterestFraction: p.hasOpenInterestFraction ? p.openInterestFraction : nil,
                  volumeFraction: p.hasVolumeFraction ? p.volumeFraction : nil, shape: shape, maintenanceFraction: p.maintenanceFraction)
    }

    var proto: Margin_V1_ConcentrationAddOnRule {
        var p = Margin_V1_ConcentrationAddOnRule()
        if let openInterestFraction { p.openInterestFraction = openInterestFraction }
        if let volumeFraction { p.volumeFraction = volumeFraction }
        p.shape = shape.name
        switch shape {
        case .sizePremium(let imf): p.imfFactor = imf
        case .openInterestRamp(let multiple): p.rampUpperMultiple = multiple
        }
        p.maintenanceFraction = maintenanceFraction
        return p
    }
}
