/// How the liquidation planner trades off speed, cost and size (all rates are fractions).
public struct LiquidationPolicy: Sendable, Hashable {
    /// Restore equity to MM × (1 + buffer).
    public var targetBuffer: Double
    /// Accounts with equity below this amount (valuation units) are closed out fully.
    public var closeOutEquity: Double
    /// Largest chunk as a fraction of the depth displayed on the closing side within `priceBand`.
    public var depthFraction: Double
    /// Liquidation penalty as a fraction of the closed value (a cost to the account).
    public var penaltyRate: Double
    /// How a leg's cost is priced from the book for instruments whose parameter set defines no
    /// ``RiskUnitParameters/liquidityCost`` (the set's model wins, so that the margin add-on and the
    /// planner price a close-out alike).
    public var costModel: LiquidityCostModel
    /// Depth counts towards a chunk when its price lies within this fraction of the reference
    /// price (the best level always counts); default 10 %.
    public var priceBand: Double
    /// Chunk cap of an instrument with no book on the closing side, as a fraction of the position
    /// (at least one lot); default 10 %.
    public var noBookChunkFraction: Double
    /// Anti-cascade budget (worker): besides `budget_fraction` of the depth within the band, a window
    /// may use this fraction of the 24 h volume expected in it (`V × window / 24 h`); default 25 %.
    public var budgetVolumeFraction: Double

    /// `impactCoefficient` is η of the default Almgren et al. (2005) cost model (β = 0.6); `costModel`,
    /// when given, replaces that model.
    public init(targetBuffer: Double = 0.15, closeOutEquity: Double = 10, depthFraction: Double = 0.5,
                penaltyRate: Double = 0.005, impactCoefficient: Double = 0.142, costModel: LiquidityCostModel? = nil,
                priceBand: Double = 0.1, noBookChunkFraction: Double = 0.1, budgetVolumeFraction: Double = 0.25) {
        self.targetBuffer = targetBuffer
        self.closeOutEquity = closeOutEquity
        self.depthFraction = depthFraction
        self.penaltyRate = penaltyRate
        self.costModel = costModel ?? LiquidityCostModel(impact: .almgren(eta: impactCoefficient, beta: 0.6))
        self.priceBand = priceBand
        self.noBookChunkFraction = noBookChunkFraction
        self.budgetVolumeFraction = budgetVolumeFraction
    }
}
