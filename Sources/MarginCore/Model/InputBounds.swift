/// Bounds on inputs. Magnitudes: finite but extreme numbers (a quantity of 1e308) would overflow
/// the margin arithmetic to infinity, so they are refused at the door, naming the field. Counts:
/// an account's positions, balances and open orders bound the work one record or request costs
/// (a what-if of 90,000 balances is refused before anything is margined).
///
/// Magnitude defaults leave orders of magnitude of room above any real venue: 1e9 contracts per
/// position, 1e15 units of an asset per balance (and of unsettled funding), 1e12 USD per price.
/// Count defaults: 2,000 positions (more than every listed BTC and ETH option and future together
/// on Deribit, about 1,500 in late 2025), 200 balances, 2,000 open orders. A venue sets tighter
/// ones in the worker configuration (`max_positions`, `max_balances`, `max_open_orders`, …).
public struct InputBounds: Sendable, Hashable {
    /// Largest |quantity| of a position, contracts.
    public var maxQuantity: Double
    /// Largest |amount| of a balance or of unsettled funding, asset units.
    public var maxBalance: Double
    /// Largest price (index, mark, forward, strike, entry price), USD.
    public var maxPrice: Double
    /// Most positions an account may hold.
    public var maxPositions: Int
    /// Most balances (assets) an account may hold.
    public var maxBalances: Int
    /// Most open orders an account may rest.
    public var maxOpenOrders: Int

    public init(maxQuantity: Double = 1e9, maxBalance: Double = 1e15, maxPrice: Double = 1e12,
                maxPositions: Int = 2_000, maxBalances: Int = 200, maxOpenOrders: Int = 2_000) {
        self.maxQuantity = maxQuantity
        self.maxBalance = maxBalance
        self.maxPrice = maxPrice
        self.maxPositions = maxPositions
        self.maxBalances = maxBalances
        self.maxOpenOrders = maxOpenOrders
    }

    public static let standard = InputBounds()

    /// Throws unless `count` ≤ `bound`: the one count rule, for decoded accounts and for the HTTP
    /// pre-scan that counts a body's entries before decoding it.
    public func checkCount(_ count: Int, _ bound: Int, _ field: @autoclosure () -> String) throws(MarginError) {
        guard count <= bound else { throw .invalidInput(field: field(), reason: "more than \(bound) entries (the configured limit)") }
    }

    /// Throws unless |value| ≤ bound (and finite).
    public func check(_ value: Double, _ bound: Double, _ field: @autoclosure () -> String) throws(MarginError) {
        guard value.isFinite else { throw .invalidInput(field: field(), reason: "must be finite, got \(value)") }
        guard abs(value) <= bound else { throw .invalidInput(field: field(), reason: "magnitude \(value) exceeds the bound \(bound)") }
    }
}

extension UnderlyingMarket {
    /// Throws unless the snapshot's prices (index, perpetual mark, forwards) are within `bounds`.
    public func checkBounds(_ bounds: InputBounds) throws(MarginError) {
        try bounds.check(indexPrice, bounds.maxPrice, "market \(underlying).index_price")
        if let mark = perpetualMark { try bounds.check(mark, bounds.maxPrice, "market \(underlying).perpetual_mark") }
        for (index, expiry) in expiries.enumerated() {
            try bounds.check(expiry.forward, bounds.maxPrice, "market \(underlying).expiries[\(index)].forward")
        }
    }
}

extension Instrument {
    /// Throws unless an option's strike is within `bounds`.
    public func checkBounds(_ bounds: InputBounds) throws(MarginError) {
        if case .option(_, let strike, _) = kind { try bounds.check(strike, bounds.maxPrice, "instrument \(name).strike") }
    }
}
