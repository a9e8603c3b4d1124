import MarginCore

/// Liquidation planner settings (`liquidation:` in the YAML configuration).
public struct LiquidationSettings: Sendable, Hashable {
    /// Plan and publish close-out instructions.
    public var enabled = true
    /// Restore equity to MM × (1 + buffer).
    public var targetBuffer = 0.15
    /// Accounts with equity below this amount (valuation units) are closed out fully.
    public var closeOutEquity = 10.0
    /// Largest chunk as a fraction of the depth displayed on the closing side within the planner's
    /// price band (``LiquidationPolicy/priceBand``).
    public var depthFraction = 0.5
    /// Liquidation penalty as a fraction of the closed notional.
    public var penaltyRate = 0.005
    /// η of the temporary-impact model `σ·η·(X/V)^β` (Almgren et al. 2005: η = 0.142, β = 0.6)
    /// that prices close-outs beyond the displayed depth, for underlyings whose parameter set
    /// defines no `liquidity_cost` (the set's model wins).
    public var impactCoefficient = 0.142
    /// Anti-cascade budget: per instrument and window, at most this fraction of the depth within the
    /// price band on the closing side (or a share of the 24 h volume, whichever is larger); per
    /// underlying, this fraction of its futures' and perpetuals' depth, in delta notional.
    public var budgetFraction = 1.0
    public var budgetWindow: Duration = .seconds(1)
    /// Contracts per window an instrument with neither displayed depth nor 24 h volume may be
    /// instructed (before the instance's share). 0, the default: such an instrument is not
    /// liquidated, and an account that needs it waits with reason `no_depth`.
    public var noBookCap = 0.0
    /// An outstanding instruction expires (and is re-planned) after this long.
    public var deadline: Duration = .seconds(30)

    public init() {}

    public func validate() throws(ConfigurationError) {
        func fail(_ key: String, _ reason: String) throws(ConfigurationError) -> Never { throw ConfigurationError(key: "liquidation.\(key)", reason: reason) }
        if !(targetBuffer >= 0) { try fail("target_buffer", "must be ≥ 0") }
        if !(depthFraction > 0 && depthFraction <= 1) { try fail("depth_fraction", "must lie in (0, 1]") }
        if !(penaltyRate >= 0 && penaltyRate < 1) { try fail("penalty_rate", "must lie in [0, 1)") }
        if !(impactCoefficient >= 0) { try fail("impact_coefficient", "must be ≥ 0") }
        if !(budgetFraction > 0) { try fail("budget_fraction", "must be > 0") }
        if budgetWindow.milliseconds < 1 { try fail("budget_window_ms", "must be positive") }
        if deadline.milliseconds < 1 { try fail("deadline_ms", "must be positive") }
        if !(noBookCap >= 0 && noBookCap <= 1e15) { try fail("no_book_cap", "must lie in [0, 1e15]") }
    }
}
