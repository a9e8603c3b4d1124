/// One close-out order. `quantity` is positive contracts; `side` buys back shorts, sells longs.
public struct LiquidationLegPlan: Sendable, Hashable {
    public enum Side: String, Sendable, Hashable {
        case buy, sell
    }

    public var instrument: String
    public var side: Side
    public var quantity: Double
    /// Worst acceptable price (quote units): the reference price ∓ the distance of the last
    /// contract's expected fill — the deepest displayed level reached, plus the impact beyond the
    /// displayed depth (``CloseCost/worstPrice(quoteToValuation:)``).
    public var limitPrice: Double
    /// Expected execution cost (valuation units): the book walk and impact
    /// (``LiquidityCostModel/closeCost(_:side:terms:)``) and the penalty.
    public var expectedCost: Double
}

/// The planner's answer for one account.
public struct LiquidationPlan: Sendable, Hashable {
    public enum Reason: String, Sendable, Hashable {
        case maintenanceBreach = "maintenance_breach"
        case bankrupt
    }

    public var reason: Reason
    public var legs: [LiquidationLegPlan]
    public var equityBefore: Double
    public var maintenanceBefore: Double
    public var initialBefore: Double
    /// Expected equity and MM once the legs are filled at their expected cost.
    public var expectedEquityAfter: Double
    public var expectedMaintenanceAfter: Double
    /// Insurance-fund deficit estimated when even closing everything leaves negative equity.
    public var estimatedDeficit: Double
    /// Whether the legs restore the target (false when liquidity or budget limits cut the plan).
    public var meetsTarget: Bool
    /// Severity: shortfall relative to MM, `(MM − equity) / MM`.
    public var severity: Double
    /// What binds before the plan, e.g. `BTC: spot -16% vol up` (the unit with the largest loss).
    public var bindingScenario: String
    /// The plan closes every position (as far as this window's budget allows): the account's
    /// equity was below `closeOutEquity`, or no reduce-only step restored the target.
    public var fullCloseOut: Bool
    /// A full close-out chosen because no reduce-only step released margin
    /// (``fullCloseOut`` is then true).
    public var fellBackToCloseOut: Bool
}
