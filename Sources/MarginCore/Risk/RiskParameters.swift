/// One market scenario of the risk grid.
///
/// `spotShock` multiplies the index and every forward (1.16 = +16%). `dampening` multiplies the
/// scenario's PnL (tail scenarios are dampened, e.g. 0.25). Skew scenarios tilt the smile at the
/// current forwards: options are revalued at unchanged forwards, and a spot shock, if given, moves
/// only the delta-one exposures (perpetuals, futures, linked collateral), as in Derive's PMRM_2.
public struct Scenario: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The core spot × volatility grid.
        case regular
        /// Extended moves, usually dampened.
        case tail
        /// Smile tilts at the current forwards.
        case skew
        /// A joint historical or Monte Carlo scenario of the dynamic risk model
        /// (``HistoricalScenarioSet``): extra risk-book columns, never part of the grid.
        case historical
    }

    public enum VolatilityShock: String, Sendable, Hashable, CaseIterable {
        case none
        case up
        case down
        /// Multiply each volatility by 1 + clamp(k·cap/k*, ±cap), k = ln(K/F).
        case skewLinear
        /// The same with |k|: both wings raised.
        case skewAbsolute

        public var isSkew: Bool { self == .skewLinear || self == .skewAbsolute }
    }

    public var spotShock: Double
    public var volatilityShock: VolatilityShock
    public var dampening: Double
    public var kind: Kind
    /// Multiplies the volatility after the shock (1 everywhere except historical scenarios whose
    /// source has implied-volatility history: the ATM vol's relative change over the window).
    public var volatilityScale: Double

    public init(spotShock: Double, volatilityShock: VolatilityShock, dampening: Double = 1, kind: Kind? = nil, volatilityScale: Double = 1) {
        self.spotShock = spotShock
        self.volatilityShock = volatilityShock
        self.dampening = dampening
        self.kind = kind ?? (volatilityShock.isSkew ? .skew : (dampening == 1 ? .regular : .tail))
        self.volatilityScale = volatilityScale
    }

    /// A short human label, e.g. `spot -16% vol up` or `skew linear x3`.
    public var label: String {
        if volatilityShock.isSkew {
            var name = volatilityShock == .skewLinear ? "skew linear" : "skew absolute"
            if spotShock != 1 { name += " spot \(spotMoveText)" }
            return dampening == 1 ? name : "\(name) x\(formatShort(dampening))"
        }
        var text = "spot \(spotMoveText) vol \(volatilityShock.rawValue)"
        if dampening != 1 { text += " x\(formatShort(dampening))" }
        return text
    }

    /// The spot move in percent with its sign, e.g. `-16%`, `+18%`, `0%`.
    private var spotMoveText: String {
        let move = (spotShock - 1) * 100
        let sign = move > 0 ? "+" : ""
        return "\(sign)\(formatShort(move))%"
    }
}

func formatShort(_ value: Double) -> String {
    let rounded = (value * 1000).rounded() / 1000
    if rounded == rounded.rounded() { return String(Int(rounded)) }
    return String(rounded)
}

/// Term-scaled volatility shocks.
///
/// For an expiry `DTE` days away, `m = (referenceDays / max(DTE, dteFloorDays))^p` with
/// `p = shortTermPower` when `DTE ≤ termSwitchDays` and `longTermPower` otherwise. The up shock
/// multiplies volatility by `1 + rangeUp·m` (never evaluating below `minimumVolatilityUp`), the
/// down shock by `max(0, 1 − rangeDown·m)`.
public struct VolatilityShockRule: Sendable, Hashable {
    public var rangeUp: Double
    public var rangeDown: Double
    public var shortTermPower: Double
    public var longTermPower: Double
    public var dteFloorDays: Double
    public var minimumVolatilityUp: Double
    public var referenceDays: Double
    public var termSwitchDays: Double

    public init(rangeUp: Double, rangeDown: Double, shortTermPower: Double, longTermPower: Double,
                dteFloorDays: Double = 1, minimumVolatilityUp: Double = 0, referenceDays: Double = 30, termSwitchDays: Double = 30) {
        self.rangeUp = rangeUp
        self.rangeDown = rangeDown
        self.shortTermPower = shortTermPower
        self.longTermPower = longTermPower
        self.dteFloorDays = dteFloorDays
        self.minimumVolatilityUp = minimumVolatilityUp
        self.referenceDays = referenceDays
        self.termSwitchDays = termSwitchDays
    }

    /// The up and down volatility multipliers for an expiry `secondsToExpiry` away.
    public func multipliers(secondsToExpiry: Double) -> (up: Double, down: Double) {
        let floorSeconds = max(dteFloorDays * 86_400, 1)
        let scale = referenceDays * 86_400 / max(secondsToExpiry, floorSeconds)
        let power = secondsToExpiry <= termSwitchDays * 86_400 ? shortTermPower : longTermPower
        let m = CMath.pow(scale, power)
        return (1 + rangeUp * m, max(0, 1 - rangeDown * m))
    }
}

/// Skew scenarios: volatility at log-moneyness `k = ln(K/F)` is multiplied by
/// `max(0, 1 + clamp(k·cap/k*, −cap, cap))` where, with `√τ` the root of the time to expiry in years,
/// `cap = baseCap + cBase·√τ` and `k* = max(minKStar, √τ·widthScale·(volParamStatic + √τ·volParamScale))`.
/// The linear tilt uses k; the absolute tilt uses |k| (both wings up).
public struct SkewShockRule: Sendable, Hashable {
    public var linearBaseCap: Double
    public var linearCBase: Double
    public var absoluteBaseCap: Double
    public var absoluteCBase: Double
    public var minKStar: Double
    public var widthScale: Double
    public var volParamStatic: Double
    public var volParamScale: Double

    public init(linearBaseCap: Double, linearCBase: Double, absoluteBaseCap: Double, absoluteCBase: Double,
                minKStar: Double, widthScale: Double, volParamStatic: Double, volParamScale: Double) {
        self.linearBaseCap = linearBaseCap
        self.linearCBase = linearCBase
        self.absoluteBaseCap = absoluteBaseCap
        self.absoluteCBase = absoluteCBase
        self.minKStar = minKStar
        self.widthScale = widthScale
        self.volParamStatic = volParamStatic
        self.volParamScale = volParamScale
    }

    /// The volatility multiplier for an option at log-moneyness `k`, `timeToExpiry` years away.
    public func multiplier(logMoneyness k: Double, timeToExpiry: Double, absolute: Bool) -> Double {
        let rootTau = timeToExpiry.squareRoot()
        let cap = absolute ? absoluteCBase * rootTau + absoluteBaseCap : linearCBase * rootTau + linearBaseCap
        let kStar = max(minKStar, rootTau * widthScale * (volParamStatic + rootTau * volParamScale))
        let x = absolute ? abs(k) : k
        // A zero k* (all width parameters zero) makes the tilt a step: ±cap off the money, 0 at it.
        let slope = kStar > 0 ? x * cap / kStar : (x == 0 ? 0 : (x > 0 ? Double.infinity : -Double.infinity))
        let tilt = x >= 0 ? min(cap, slope) : max(-cap, slope)
        return max(0, 1 + tilt)
    }
}

/// Per-expiry static discounting of the shocked option value (Derive PMRM_2): a positive shocked
/// value is multiplied by `positiveBase·e^(−τ·(r·positiveRateMultiplier + positiveRateAdd))`, a
/// negative one by `min(1/D, negativeBase·e^(τ·(r·negativeRateMultiplier + negativeRateAdd)))`, where
/// `r` is the expiry's rate (floored at 0), τ its time in years and `D = e^(−rτ)` its discount.
public struct StaticDiscountRule: Sendable, Hashable {
    public var positiveBase: Double
    public var positiveRateMultiplier: Double
    public var positiveRateAdd: Double
    public var negativeBase: Double
    public var negativeRateMultiplier: Double
    public var negativeRateAdd: Double

    public init(positiveBase: Double, positiveRateMultiplier: Double, positiveRateAdd: Double,
                negativeBase: Double, negativeRateMultiplier: Double, negativeRateAdd: Double) {
        self.positiveBase = positiveBase
        self.positiveRateMultiplier = positiveRateMultiplier
        self.positiveRateAdd = positiveRateAdd
        self.negativeBase = negativeBase
        self.negativeRateMultiplier = negativeRateMultiplier
        self.negativeRateAdd = negativeRateAdd
    }

    /// The factors applied to positive and negative shocked expiry values.
    public func factors(rate: Double, timeToExpiry tau: Double) -> (positive: Double, negative: Double) {
        let r = max(rate, 0)
        let positive = positiveBase * CMath.exp(-tau * (r * positiveRateMultiplier + positiveRateAdd))
        let negative = negativeBase / CMath.exp(-tau * (r * negativeRateMultiplier + negativeRateAdd))
        return (positive, min(1 / CMath.exp(-r * tau), negative))
    }
}

/// Basis (forward) contingency: for each expiry, the loss of the expiry's options when all forwards
/// move by `spotUp` or `spotDown` at unchanged volatility, `min(0, ΔV_up, ΔV_down)`, scaled by
/// `addFactor + multFactor·τ`. The sum over expiries competes with the scenarios as the worst loss.
public struct BasisContingencyRule: Sendable, Hashable {
    public var spotUp: Double
    public var spotDown: Double
    public var addFactor: Double
    public var multFactor: Double

    public init(spotUp: Double, spotDown: Double, addFactor: Double, multFactor: Double) {
        self.spotUp = spotUp
        self.spotDown = spotDown
        self.addFactor = addFactor
        self.multFactor = multFactor
    }
}

/// A contingency charged as a fraction of a notional. `initial` is the whole IM charge (it
/// includes what maintenance charges), `maintenance` the MM charge.
public struct PercentContingency: Sendable, Hashable {
    public var maintenance: Double
    public var initial: Double

    public init(maintenance: Double, initial: Double) {
        self.maintenance = maintenance
        self.initial = initial
    }
}

/// Oracle-confidence contingency (initial margin only): an exposure whose price confidence `c` is
/// below `threshold` is charged `(1 − c)·margin·notional`.
public struct ConfidenceContingencyRule: Sendable, Hashable {
    public var threshold: Double
    public var margin: Double

    public init(threshold: Double, margin: Double) {
        self.threshold = threshold
        self.margin = margin
    }

    @inlinable
    public func charge(confidence: Double, notional: Double) -> Double {
        confidence < threshold ? (1 - confidence) * margin * notional : 0
    }
}

/// Stablecoin de-peg add-on: when the valuation asset trades below `threshold` USD, the IM loss
/// factor grows by `(threshold − price)·factor`.
public struct StablecoinPegRule: Sendable, Hashable {
    public var threshold: Double
    public var factor: Double

    public init(threshold: Double, factor: Double) {
        self.threshold = threshold
        self.factor = factor
    }

    public func initialFactorAddOn(valuationPrice: Double) -> Double {
        valuationPrice < threshold ? (threshold - valuationPrice) * factor : 0
    }
}

/// How one collateral asset counts towards equity.
///
/// Haircuts are fractions of the asset's value (0.02 = 2%); `initialHaircut` is the whole haircut
/// applied for IM (it includes the maintenance one). When `riskLinked` is true and the asset's
/// underlying has a risk unit, the balance is revalued in that unit's scenarios (a BTC balance
/// offsets a short BTC call; Derive calls this risk-cancelling collateral).
public struct CollateralParameters: Sendable, Hashable {
    public var maintenanceHaircut: Double
    public var initialHaircut: Double
    public var riskLinked: Bool

    public init(maintenanceHaircut: Double, initialHaircut: Double, riskLinked: Bool = true) {
        self.maintenanceHaircut = maintenanceHaircut
        self.initialHaircut = initialHaircut
        self.riskLinked = riskLinked
    }

    public static let none = CollateralParameters(maintenanceHaircut: 0, initialHaircut: 0)
}

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

    public init(scenarios: [Scenario], volatilityShock: VolatilityShockRule, skewShock: SkewShockRule? = nil,
                smile: SmileEvaluation = .unbounded, staticDiscount: StaticDiscountRule? = nil,
                basisContingency: BasisContingencyRule? = nil, shortOptionContingency: PercentContingency? = nil,
                deltaOneContingency: PercentContingency? = nil, maintenanceFactor: Double, initialFactor: Double,
                liquidityCost: LiquidityCostModel? = nil, liquidityAddOn: LiquidityAddOnRule? = nil,
                concentrationAddOn: ConcentrationAddOnRule? = nil) {
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
    }
}

/// A complete, versioned risk-parameter set (data, not code).
///
/// All amounts the engine produces are in units of `valuationAsset` (e.g. USDC); its USD price
/// comes from that asset's market snapshot when one exists, else 1.
public struct RiskParameters: Sendable, Hashable {
    public static let wildcard = "*"

    public var id: String
    public var version: Int64
    public var summary: String
    public var valuationAsset: String
    /// Per-underlying parameters. An account exposed through derivatives to an underlying that has
    /// no entry cannot be margined (``MarginError/missingParameters(underlying:)``).
    public var riskUnits: [String: RiskUnitParameters]
    /// Per-asset haircuts; the key `*` applies to assets without their own entry.
    public var collateral: [String: CollateralParameters]
    public var confidenceContingency: ConfidenceContingencyRule?
    public var stablecoinPeg: StablecoinPegRule?
    /// Decorrelation factor `d` in [0, 1] of the grid across underlyings: an account's grid loss is
    /// `d·Σ_u worst_u + (1 − d)·worst_s Σ_u PnL_u(s)`. 1 (the default) margins each underlying on
    /// its own worst scenario, as Deribit and Derive do.
    public var decorrelation: Double
    /// The joint scenario set of the dynamic risk model (FHS or Monte Carlo), when calibrated.
    public var historicalSimulation: HistoricalScenarioSet?
    /// Where a calibrated set came from (data range, settings, per-underlying figures): text for people.
    public var provenance: [String: String]

    public init(id: String, version: Int64, summary: String = "", valuationAsset: String,
                riskUnits: [String: RiskUnitParameters], collateral: [String: CollateralParameters] = [:],
                confidenceContingency: ConfidenceContingencyRule? = nil, stablecoinPeg: StablecoinPegRule? = nil,
                decorrelation: Double = 1, historicalSimulation: HistoricalScenarioSet? = nil, provenance: [String: String] = [:]) {
        self.id = id
        self.version = version
        self.summary = summary
        self.valuationAsset = valuationAsset
        self.riskUnits = riskUnits
        self.collateral = collateral
        self.confidenceContingency = confidenceContingency
        self.stablecoinPeg = stablecoinPeg
        self.decorrelation = decorrelation
        self.historicalSimulation = historicalSimulation
        self.provenance = provenance
    }

    public func riskUnit(for underlying: String) -> RiskUnitParameters? {
        riskUnits[underlying]
    }

    /// The unit's parameters as its risk book sees them: the grid, then the joint scenario set's
    /// columns for this underlying (``HistoricalScenarioSet/bookScenarios(for:)``) when there is one.
    public func bookParameters(for underlying: String) -> RiskUnitParameters? {
        guard var unit = riskUnits[underlying] else { return nil }
        if let set = historicalSimulation { unit.scenarios += set.bookScenarios(for: underlying) }
        return unit
    }

    public func collateralParameters(for asset: String) -> CollateralParameters {
        collateral[asset] ?? collateral[Self.wildcard] ?? .none
    }

    /// Refuses sets that would produce meaningless margins: empty grids, non-positive shocks,
    /// non-finite numbers, skew scenarios without a skew rule, haircuts outside [0, 1].
    public func validate() throws(MarginError) {
        guard !id.isEmpty else { throw .invalidInput(field: "params.id", reason: "must not be empty") }
        guard !valuationAsset.isEmpty else { throw .invalidInput(field: "params.valuation_asset", reason: "must not be empty") }
        guard !riskUnits.isEmpty else { throw .invalidInput(field: "params.risk_units", reason: "must define at least one underlying") }
        guard decorrelation.isFinite, decorrelation >= 0, decorrelation <= 1 else {
            throw .invalidInput(field: "params.decorrelation", reason: "must lie in [0, 1], got \(decorrelation)")
        }
        try historicalSimulation?.validate()
        for (underlying, unit) in riskUnits {
            let field = "params.risk_units[\(underlying)]"
            guard !unit.scenarios.isEmpty else { throw .invalidInput(field: "\(field).scenarios", reason: "must not be empty") }
            for (index, scenario) in unit.scenarios.enumerated() {
                let f = "\(field).scenarios[\(index)]"
                guard scenario.kind != .historical else { throw .invalidInput(field: "\(f).kind", reason: "historical scenarios come from historical_simulation, not the grid") }
                _ = try scenario.spotShock.requirePositive("\(f).spot_shock")
                _ = try scenario.dampening.requireFinite("\(f).dampening")
                guard scenario.dampening >= 0 else { throw .invalidInput(field: "\(f).dampening", reason: "must be ≥ 0") }
                if scenario.volatilityShock.isSkew {
                    guard unit.skewShock != nil else { throw .invalidInput(field: f, reason: "skew scenario without a skew_shock rule") }
                }
            }
            let v = unit.volatilityShock
            for (name, value) in [("range_up", v.rangeUp), ("range_down", v.rangeDown), ("short_term_power", v.shortTermPower),
                                  ("long_term_power", v.longTermPower), ("dte_floor_days", v.dteFloorDays),
                                  ("minimum_volatility_up", v.minimumVolatilityUp), ("reference_days", v.referenceDays),
                                  ("term_switch_days", v.termSwitchDays)] {
                _ = try value.requireFinite("\(field).volatility_shock.\(name)")
                guard value >= 0 else { throw .invalidInput(field: "\(field).volatility_shock.\(name)", reason: "must be ≥ 0") }
            }
            _ = try unit.maintenanceFactor.requirePositive("\(field).maintenance_factor")
            _ = try unit.initialFactor.requirePositive("\(field).initial_factor")
            if let basis = unit.basisContingency {
                _ = try basis.spotUp.requirePositive("\(field).basis_contingency.spot_up")
                _ = try basis.spotDown.requirePositive("\(field).basis_contingency.spot_down")
            }
            try unit.liquidityCost?.validate(field: "\(field).liquidity_cost")
            try unit.liquidityAddOn?.validate(field: "\(field).liquidity_add_on")
            try unit.concentrationAddOn?.validate(field: "\(field).concentration_add_on")
        }
        for (asset, haircut) in collateral {
            for (name, value) in [("maintenance_haircut", haircut.maintenanceHaircut), ("initial_haircut", haircut.initialHaircut)] {
                guard value.isFinite, value >= 0, value <= 1 else {
                    throw .invalidInput(field: "params.collateral[\(asset)].\(name)", reason: "must lie in [0, 1], got \(value)")
                }
            }
        }
    }
}
