/// Liquidity add-on: the cost of closing the account's net position in each instrument from its
/// order book (``LiquidityCostModel/closeCost(_:side:terms:)``: walk the displayed levels, beyond
/// them the temporary impact), charged in full for IM and `maintenanceFraction` of it for MM, the
/// way CME SPAN 2 adds a liquidity charge for the cost of closing out.
///
/// Positions are charged per instrument. With `netDeltaOneAcrossExpiries` the futures and
/// perpetuals of an underlying are first netted in underlying units and the net is charged once, on
/// the held future or perpetual with the largest 24 h volume (then the deepest closing side, then
/// the name): a calendar spread then pays for its net, not for both legs. Options are never netted.
public struct LiquidityAddOnRule: Sendable, Hashable {
    /// Share of the IM add-on that maintenance also charges, in [0, 1]; default 0.5.
    public var maintenanceFraction: Double
    public var netDeltaOneAcrossExpiries: Bool

    public init(maintenanceFraction: Double = 0.5, netDeltaOneAcrossExpiries: Bool = false) {
        self.maintenanceFraction = maintenanceFraction
        self.netDeltaOneAcrossExpiries = netDeltaOneAcrossExpiries
    }

    public func validate(field: String) throws(MarginError) {
        guard maintenanceFraction.isFinite, maintenanceFraction >= 0, maintenanceFraction <= 1 else {
            throw .invalidInput(field: "\(field).maintenance_fraction", reason: "must lie in [0, 1]")
        }
    }
}
