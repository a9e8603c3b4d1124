import MarginCore

extension HealthState {
    /// The wire enum.
    public var proto: Margin_V1_HealthState {
        switch self {
        case .healthy: return .healthy
        case .belowInitial: return .belowIm
        case .liquidatable: return .liquidatable
        case .bankrupt: return .bankrupt
        case .stale: return .stale
        case .error: return .error
        }
    }
}

extension ContingencyCharge {
    var proto: Margin_V1_ContingencyCharge {
        var p = Margin_V1_ContingencyCharge()
        p.name = name
        p.maintenance = maintenance
        p.initial = initial
        p.detail = detail
        return p
    }
}

extension LiquidityAddOn {
    var proto: Margin_V1_LiquidityAddOn {
        var p = Margin_V1_LiquidityAddOn()
        p.instrument = instrument
        p.quantity = quantity
        p.liquidityMaintenance = liquidityMaintenance
        p.liquidityInitial = liquidityInitial
        p.concentrationMaintenance = concentrationMaintenance
        p.concentrationInitial = concentrationInitial
        if let cost = closeCost { p.closeCost = cost.proto }
        if let nettedInto { p.nettedInto = nettedInto }
        p.dailyVolatility = dailyVolatility
        if let volume24h { p.volume24H = volume24h }
        if let openInterest { p.openInterest = openInterest }
        if let concentrationThreshold { p.concentrationThreshold = concentrationThreshold }
        p.standaloneLoss = standaloneLoss
        p.notional = notional
        p.baseRate = baseRate
        p.concentratedRate = concentratedRate
        return p
    }
}

extension CloseCost {
    var proto: Margin_V1_CloseCost {
        var p = Margin_V1_CloseCost()
        p.quantity = quantity
        p.side = side.rawValue
        p.total = total
        p.walked = walked
        p.beyondDepth = beyondDepth
        p.beyondCost = beyondCost
        p.impactPerContract = impactPerContract
        if let volumeUsed { p.volumeUsed = volumeUsed }
        p.displayedDepth = displayedDepth
        p.levelsUsed = Int32(clamping: levelsUsed)
        p.referencePrice = referencePrice
        p.worstDistance = worstDistance
        p.noBook = noBook
        return p
    }
}

extension MarginResult {
    /// The wire form, with a result id (deterministic ids are the worker's concern).
    public func proto(resultID: String = "") -> Margin_V1_MarginResult {
        let figures = MarginSummary(grossEquity: grossEquity, equity: equity, initialEquity: initialEquity,
                                    maintenanceRequirement: maintenanceRequirement, initialRequirement: initialRequirement, health: health)
        var p = figures.figuresProto(resultID: resultID, accountID: accountId, accountVersion: accountVersion,
                                     parameterSet: (parameterSetId, parameterSetVersion, valuationAsset), asOfMs: asOfMs,
                                     marketTimestamps: marketTimestamps)
        p.accountContingencies = accountContingencies.map(\.proto)
        p.riskModel = riskModel.proto
        p.riskUnits = riskUnits.map { unit in
            var u = Margin_V1_RiskUnitMargin()
            u.underlying = unit.underlying
            u.scenarioPnls = unit.scenarioPnLs
            u.unadjustedScenarioPnls = unit.unadjustedScenarioPnLs
            if let adjustment = unit.adjustment {
                u.extendedDampener = adjustment.tailDampener
                u.gainCreditFraction = adjustment.gainFraction
                if adjustment.gainCap.isFinite { u.gainCreditCap = adjustment.gainCap }
            }
            u.basisContingency = unit.basisContingency
            if let binding = unit.bindingScenario { u.bindingScenario = Int32(binding) }
            u.bindingLabel = unit.bindingLabel
            u.worstLoss = unit.worstLoss
            u.maintenanceFactor = unit.maintenanceFactor
            u.initialFactor = unit.initialFactor
            u.contingencies = unit.contingencies.map(\.proto)
            u.maintenanceRequirement = unit.maintenanceRequirement
            u.initialRequirement = unit.initialRequirement
            u.markToMarket = unit.markToMarket
            u.indexPrice = unit.indexPrice
            u.marketTimestampMs = unit.marketTimestampMs
            u.contributions = unit.contributions.map(\.proto)
            u.allocatedLoss = unit.allocatedLoss
            u.liquidityAddOns = unit.liquidityAddOns.map(\.proto)
            return u
        }
        p.equityComponents = equityComponents.map { c in
            var x = Margin_V1_EquityComponent()
            x.kind = c.kind.rawValue
            x.name = c.name
            x.quantity = c.quantity
            x.price = c.price
            x.value = c.value
            x.maintenanceHaircut = c.maintenanceHaircut
            x.initialHaircut = c.initialHaircut
            return x
        }
        return p
    }
}

extension MarginSummary {
    /// A summary result (`summary_only`): the figures without the explanation.
    public func summaryProto(resultID: String, account: Account, parameterSet: (id: String, version: Int64, valuationAsset: String),
                             asOfMs: Int64, marketTimestamps: [String: Int64]) -> Margin_V1_MarginResult {
        var p = figuresProto(resultID: resultID, accountID: account.id, accountVersion: account.version,
                             parameterSet: parameterSet, asOfMs: asOfMs, marketTimestamps: marketTimestamps)
        p.summaryOnly = true
        return p
    }

    /// What every result carries, explained or not: identity, provenance, equities, requirements, health.
    func figuresProto(resultID: String, accountID: String, accountVersion: UInt64, parameterSet: (id: String, version: Int64, valuationAsset: String),
                      asOfMs: Int64, marketTimestamps: [String: Int64]) -> Margin_V1_MarginResult {
        var p = Margin_V1_MarginResult()
        p.resultID = resultID
        p.accountID = accountID
        p.accountVersion = accountVersion
        p.parameterSetID = parameterSet.id
        p.parameterSetVersion = parameterSet.version
        p.valuationAsset = parameterSet.valuationAsset
        p.asOfMs = asOfMs
        p.grossEquity = grossEquity
        p.equity = equity
        p.initialEquity = initialEquity
        p.maintenanceRequirement = maintenanceRequirement
        p.initialRequirement = initialRequirement
        p.health = health.proto
        p.marketTimestamps = marketTimestamps
        return p
    }
}

extension PreTradeCheck {
    /// The wire form (`margin.v1.PreTradeCheck`).
    public var proto: Margin_V1_PreTradeCheck {
        var p = Margin_V1_PreTradeCheck()
        p.accountID = after.accountId
        p.fits = fits
        p.orderInitialMargin = orderInitialMargin
        p.before = before.proto()
        p.after = after.proto()
        return p
    }
}

extension Margin_V1_MarginResult {
    /// The result of an account that cannot be margined: identity, health `error`, the reason; no
    /// amounts and `as_of_ms` 0 (nothing was computed).
    public static func error(id: String, account: Account, parameterSet: (id: String, version: Int64, valuationAsset: String),
                             error: MarginError) -> Margin_V1_MarginResult {
        var result = Margin_V1_MarginResult()
        result.accountID = account.id
        result.accountVersion = account.version
        result.parameterSetID = parameterSet.id
        result.parameterSetVersion = parameterSet.version
        result.valuationAsset = parameterSet.valuationAsset
        result.health = .error
        result.errorCode = error.code
        result.error = error.description
        result.resultID = id
        return result
    }
}
