/// One open position of an account.
///
/// Sign convention: `quantity > 0` is long, `< 0` short, in contracts.
/// `averageEntryPrice` is in the instrument's quote units (USD per underlying unit for futures and
/// perpetuals; premium per contract for options, informational only since premiums settle at trade).
/// `unsettledFunding` is perpetual funding accrued but not yet paid, in valuation-asset units,
/// positive when owed to the account.
public struct Position: Sendable, Hashable {
    public var instrument: String
    public var quantity: Double
    public var averageEntryPrice: Double
    public var unsettledFunding: Double

    public init(instrument: String, quantity: Double, averageEntryPrice: Double = 0, unsettledFunding: Double = 0) {
        self.instrument = instrument
        self.quantity = quantity
        self.averageEntryPrice = averageEntryPrice
        self.unsettledFunding = unsettledFunding
    }
}

/// The full state of one margin account, as published on the accounts topic.
///
/// `balances` maps asset name to amount held (negative = borrowed); the valuation asset's balance
/// is the account's cash. `version` only grows; a state with a lower or equal version than the one
/// already held is a replay and is ignored.
public struct Account: Sendable, Hashable {
    public var id: String
    public var version: UInt64
    public var balances: [String: Double]
    public var positions: [Position]
    /// Orders resting in the book: they count in initial margin only (``OpenOrder``).
    public var openOrders: [OpenOrder]

    public init(id: String, version: UInt64 = 0, balances: [String: Double] = [:], positions: [Position] = [],
                openOrders: [OpenOrder] = []) {
        self.id = id
        self.version = version
        self.balances = balances
        self.positions = positions
        self.openOrders = openOrders
    }

    /// Rejects non-finite or out-of-bounds amounts (``InputBounds``), duplicate positions, malformed
    /// orders (``OpenOrder/validate(field:instruments:bounds:)``), unknown
    /// instruments and inverse futures or perpetuals without a positive entry price.
    public func validate(instruments: InstrumentCatalog, bounds: InputBounds = .standard) throws(MarginError) {
        guard !id.isEmpty else { throw .invalidInput(field: "account.id", reason: "must not be empty") }
        try bounds.checkCount(positions.count, bounds.maxPositions, "account \(id).positions")
        try bounds.checkCount(balances.count, bounds.maxBalances, "account \(id).balances")
        try bounds.checkCount(openOrders.count, bounds.maxOpenOrders, "account \(id).open_orders")
        for (asset, amount) in balances {
            try bounds.check(amount, bounds.maxBalance, "account \(id).balances[\(asset)]")
        }
        var seen = Set<String>()
        for (index, position) in positions.enumerated() {
            let field = "account \(id).positions[\(index)]"
            guard seen.insert(position.instrument).inserted else {
                throw .invalidInput(field: "\(field).instrument", reason: "duplicate position in \(position.instrument)")
            }
            try bounds.check(position.quantity, bounds.maxQuantity, "\(field).quantity")
            try bounds.check(position.averageEntryPrice, bounds.maxPrice, "\(field).average_entry_price")
            try bounds.check(position.unsettledFunding, bounds.maxBalance, "\(field).unsettled_funding")
            guard let instrument = instruments[position.instrument] else {
                throw .unknownInstrument(position.instrument)
            }
            switch instrument.kind {
            case .spot:
                throw .invalidInput(field: "\(field).instrument", reason: "\(instrument.name) is a spot asset; hold it as a balance")
            case .future, .perpetual:
                // Inverse contracts pay 1/entry − 1/exit: the entry price must be positive.
                if position.quantity != 0, instrument.settlement == .inverse {
                    _ = try position.averageEntryPrice.requirePositive("\(field).average_entry_price")
                }
            case .option:
                break
            }
        }
        for (index, order) in openOrders.enumerated() {
            try order.validate(field: "account \(id).open_orders[\(index)]", instruments: instruments, bounds: bounds)
        }
    }
}

/// The instruments the engine knows, by name.
///
/// `revision` changes (to a fresh random value) on every mutation, so that structures derived
/// from one state of the catalog (risk-book layouts, compiled accounts) can tell they are stale.
public struct InstrumentCatalog: Sendable {
    public private(set) var byName: [String: Instrument]
    public private(set) var revision: UInt64

    public init(_ instruments: [Instrument] = []) {
        byName = Dictionary(instruments.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        revision = UInt64.random(in: .min ... .max)
    }

    public subscript(name: String) -> Instrument? { byName[name] }

    public mutating func insert(_ instrument: Instrument) {
        guard byName[instrument.name] != instrument else { return }
        byName[instrument.name] = instrument
        revision = UInt64.random(in: .min ... .max)
    }

    public mutating func remove(_ name: String) {
        guard byName.removeValue(forKey: name) != nil else { return }
        revision = UInt64.random(in: .min ... .max)
    }

    public var count: Int { byName.count }

    /// All options on `underlying`, sorted by expiry, strike and right (a stable order).
    public func options(on underlying: String) -> [Instrument] {
        byName.values.filter { instrument in
            if case .option = instrument.kind, instrument.underlying == underlying { return true }
            return false
        }.sorted { lhs, rhs in
            guard case .option(let e1, let k1, let r1) = lhs.kind, case .option(let e2, let k2, let r2) = rhs.kind else { return false }
            if e1 != e2 { return e1 < e2 }
            if k1 != k2 { return k1 < k2 }
            if r1 != r2 { return r1 == .call }
            return lhs.name < rhs.name
        }
    }
}

extension Account {
    /// The markets the account's valuation reads — the one definition behind both the worker's
    /// re-margin triggers and its staleness rule: each position's underlying; for each balance other
    /// than the valuation asset, its own market (the calculator prices a balance by it when there is
    /// one) and its underlying's (used otherwise, and for risk-linked scenarios); and the valuation
    /// asset's (its USD price converts every amount).
    public func marketsRead(catalog: InstrumentCatalog, valuationAsset: String) -> Set<String> {
        var result: Set<String> = [valuationAsset]
        for position in positions where position.quantity != 0 {
            if let instrument = catalog[position.instrument] { result.insert(instrument.underlying) }
        }
        for order in openOrders {
            // An inverse fill pays or realises in the underlying coin, valued at the same market.
            if let instrument = catalog[order.instrument] { result.insert(instrument.underlying) }
        }
        for (asset, amount) in balances where amount != 0 && asset != valuationAsset {
            result.insert(asset)
            if let underlying = catalog[asset]?.underlying { result.insert(underlying) }
        }
        return result
    }
}
