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

