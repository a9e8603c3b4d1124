/// Everything that defines the margin of one underlying (one risk unit).
public struct RiskUnitParameters: Sendable, Hashable {
    public var scenarios: [Scenario]
    public var volatilityShock: VolatilityShockRule
    public var skewShock: SkewShockRule?
    public var smile: SmileEvaluation
    public var staticDiscount: StaticDiscountRule?
    public var basisContingency: BasisContingencyRule?
    /// Naked shorts per strike (calls and puts netted at a strike) × contract size × index.
    public var shortOptionContingency: PercentContingency?
    /// |quantity| × contract notional of perpetuals and futures.
    public var deltaOneContingency: PercentContingency?
    /// MM = maintenanceFactor × worst loss + contingencies; IM likewise with initialFactor.
    public var maintenanceFactor: Double
    public var initialFactor: Double
    /// How close-outs are priced from the order book (the liquidity add-on and the liquidation
    /// planner); nil: ``LiquidityCostModel/standard`` for the add-on, the planner's own policy.
    public var liquidityCost: LiquidityCostModel?
    /// Liquidity add-on (off when nil).
    public var liquidityAddOn: LiquidityAddOnRule?
    /// Concentration add-on (off when nil).
    public var concentrationAddOn: ConcentrationAddOnRule?
    /// How futures, perpetuals and linked balances move in tail (extended) scenarios.
    public var deltaOneInTail: DeltaOneTailTreatment
    /// Deribit's `extended_dampener`, USD: a tail scenario's loss counts only beyond it (0: off;
    /// ``ScenarioVectorAdjustment``).
    public var extendedDampener: Double
    /// Gains credited against other units' losses (nil: in full).
    public var gainCredit: GainCreditRule?
    /// Roll shock of futures and perpetuals, part of the risk-matrix margin (off when nil).
    public var rollShock: RollShockRule?
    /// Delta shock on a large net delta, part of the risk-matrix margin (off when nil).
    public var deltaShock: DeltaShockRule?
    /// Theta over the margin period: the scenarios revalue options this many days closer to expiry
    /// (0, the default: scenarios are instantaneous, as Deribit's and PMRM_2's are).
    public var scenarioAgingDays: Double = 0

    public init(scenarios: [Scenario], volatilityShock: VolatilityShockRule, skewShock: SkewShockRule? = nil,
                smile: SmileEvaluation = .unbounded, staticDiscount: StaticDiscountRule? = nil,
                basisContingency: BasisContingencyRule? = nil, shortOptionContingency: PercentContingency? = nil,
                deltaOneContingency: PercentContingency? = nil, maintenanceFactor: Double, initialFactor: Double,
                liquidityCost: LiquidityCostModel? = nil, liquidityAddOn: LiquidityAddOnRule? = nil,
                concentrationAddOn: ConcentrationAddOnRule? = nil, deltaOneInTail: DeltaOneTailTreatment = .shocked,
                extendedDampener: Double = 0, gainCredit: GainCreditRule? = nil, rollShock: RollShockRule? = nil,
                deltaShock: DeltaShockRule? = nil) {
        self.scenarios = scenarios
        self.volatilityShock = volatilityShock
        self.skewShock = skewShock
        self.smile = smile
        self.staticDiscount = staticDiscount
        self.basisContingency = basisContingency
        self.shortOptionContingency = shortOptionContingency
        self.deltaOneContingency = deltaOneContingency
        self.maintenanceFactor = maintenanceFactor
        self.initialFactor = initialFactor
        self.liquidityCost = liquidityCost
        self.liquidityAddOn = liquidityAddOn
        self.concentrationAddOn = concentrationAddOn
        self.deltaOneInTail = deltaOneInTail
        self.extendedDampener = extendedDampener
        self.gainCredit = gainCredit
        self.rollShock = rollShock
        self.deltaShock = deltaShock
    }

    /// The regular grid's lowest and highest spot shocks (1 when it has none): the edges of the
    /// standard range that ``DeltaOneTailTreatment/standardRangeEdge`` values delta-one exposures at.
    public var regularRange: (lowest: Double, highest: Double) {
        var lowest = 1.0, highest = 1.0
        for scenario in scenarios where scenario.kind == .regular {
            lowest = min(lowest, scenario.spotShock)
            highest = max(highest, scenario.spotShock)
        }
        return (lowest, highest)
    }

    /// The spot shock futures, perpetuals and linked balances take in `scenario`: its own, or in a
    /// tail scenario under ``DeltaOneTailTreatment/standardRangeEdge`` the nearest regular edge.
    public func deltaOneShock(_ scenario: Scenario, range: (lowest: Double, highest: Double)) -> Double {
        guard scenario.kind == .tail, deltaOneInTail == .standardRangeEdge else { return scenario.spotShock }
        return min(max(scenario.spotShock, range.lowest), range.highest)
    }

    /// Refuses rule values that would make the Deribit risk-matrix terms meaningless.
    func validateRiskMatrixRules(field: String) throws(MarginError) {
        guard scenarioAgingDays.isFinite, scenarioAgingDays >= 0, scenarioAgingDays <= 30 else {
            throw .invalidInput(field: "\(field).scenario_aging_days", reason: "must lie in [0, 30], got \(scenarioAgingDays)")
        }
        guard extendedDampener.isFinite, extendedDampener >= 0 else {
            throw .invalidInput(field: "\(field).extended_dampener", reason: "must be a finite amount ≥ 0, got \(extendedDampener)")
        }
        if let credit = gainCredit {
            _ = try credit.pnlOffset.requireUnitInterval("\(field).gain_credit.pnl_offset")
            if let cap = credit.maxOffsetablePnl, !(cap.isFinite && cap >= 0) {
                throw .invalidInput(field: "\(field).gain_credit.max_offsetable_pnl", reason: "must be a finite amount ≥ 0, got \(cap)")
            }
        }
        if let roll = rollShock {
            for (name, value) in [("annualised_move_risk", roll.annualisedMoveRisk), ("min_annualised_move", roll.minimumAnnualisedMove)] {
                guard value.isFinite, value >= 0, value <= 1 else {
                    throw .invalidInput(field: "\(field).roll_shock.\(name)", reason: "must lie in [0, 1], got \(value)")
                }
            }
        }
        if let delta = deltaShock {
            _ = try delta.maxShock.requireUnitInterval("\(field).delta_shock.max_delta_shock")
            _ = try delta.liquidityThreshold.requirePositive("\(field).delta_shock.liquidity_threshold")
        }
    }
}

