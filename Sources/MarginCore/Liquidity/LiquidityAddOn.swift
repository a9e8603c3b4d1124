/// One instrument's liquidity and concentration add-ons with the inputs they used (explanation).
/// Amounts in valuation units (add-ons positive), quantities in contracts.
public struct LiquidityAddOn: Sendable, Hashable {
    public var instrument: String
    /// The account's position (signed contracts).
    public var quantity: Double
    public var liquidityMaintenance: Double
    public var liquidityInitial: Double
    public var concentrationMaintenance: Double
    public var concentrationInitial: Double
    /// The close-out the liquidity add-on priced (quantity, side, walk, impact); nil when the rule is
    /// off or the position was netted into another instrument.
    public var closeCost: CloseCost?
    /// The instrument whose book priced this position's liquidity after netting, if another.
    public var nettedInto: String?
    /// Daily standard deviation of one contract's value (σ of the impact model).
    public var dailyVolatility: Double
    public var volume24h: Double?
    public var openInterest: Double?
    /// Concentration threshold in contracts (nil: no statistics, no concentration add-on).
    public var concentrationThreshold: Double?
    /// The position's standalone worst grid loss, the base of the concentration add-on.
    public var standaloneLoss: Double
    /// Delta notional of the position (|q| × |Δ| × underlying notional per contract).
    public var notional: Double
    /// `standaloneLoss / notional`, and the concentrated rate.
    public var baseRate: Double
    public var concentratedRate: Double

    public init(instrument: String, quantity: Double) {
        self.instrument = instrument
        self.quantity = quantity
        liquidityMaintenance = 0
        liquidityInitial = 0
        concentrationMaintenance = 0
        concentrationInitial = 0
        dailyVolatility = 0
        standaloneLoss = 0
        notional = 0
        baseRate = 0
        concentratedRate = 0
    }
}
