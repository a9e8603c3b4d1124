/// An account resolved against the instrument catalog: positions grouped by underlying, option
/// positions mapped to their risk-book slots. Compiled once per account version (and again when the
/// catalog changes); margined many times as markets move. A class, so that passing it to the hot
/// path costs one reference count, not one per field.
public final class AccountExposure: Sendable {
    /// An option position of the account: its row in the underlying's risk book. 16 bytes, so that
    /// an account's holdings take few cache lines.
    struct OptionHolding: Sendable {
        var quantity: Double
        private var slot32: Int32
        private var rowOffset32: Int32

        /// The option's slot in the book.
        var slot: Int { Int(slot32) }
        /// `slot × stride`: where the option's row starts in the book's storage (doubles).
        var rowOffset: Int { Int(rowOffset32) }

        /// Nil when the book is too large for 32-bit offsets (over 2³¹ doubles of rows).
        init?(slot: Int, quantity: Double, stride: Int) {
            guard let slot32 = Int32(exactly: slot), let offset = Int32(exactly: slot * stride) else { return nil }
            self.quantity = quantity
            self.slot32 = slot32
            self.rowOffset32 = offset
        }
    }

    /// Everything of the account that moves with one underlying. Its lists are ranges of the
    /// exposure's flat arrays, so that a unit is a plain value (copying it retains nothing but its name).
    struct UnitExposure: Sendable {
        var underlying: String
        /// Option holdings: `optionHoldings[options]`, sorted by slot, hence grouped by expiry, then strike.
        var options: Range<Int>
        /// Positions in futures and perpetuals on this underlying: `deltaOnePositions[deltaOne]`
        /// (indices into `account.positions`).
        var deltaOne: Range<Int>
        /// Balances revalued with this underlying: `linkedAssets[linkedBalances]`.
        var linkedBalances: Range<Int>
        var holdsPerpetual: Bool
        /// Naked short option units (underlying units): per expiry and strike, shorts net of longs
        /// (calls and puts together), summed; the short-option contingency charges it × index.
        var nakedShortUnits: Double
    }

    public let account: Account
    let units: [UnitExposure]
    /// Every unit's option holdings, unit after unit, in one allocation.
    let optionHoldings: [OptionHolding]
    let deltaOnePositions: [Int]
    /// Linked balances (asset and amount) of every unit, unit after unit.
    let linkedAssets: [(asset: String, amount: Double)]
    /// The account's non-zero balances in the order its dictionary iterates them, next to the
    /// rest of the exposure (the summary values them without walking the dictionary).
    let balances: [(asset: String, amount: Double)]
    /// The catalog revision the option slots refer to.
    public let catalogRevision: UInt64
    /// The futures, perpetuals and spot assets the account uses (options resolve through their book's slot).
    let instruments: [String: Instrument]

    /// One side of one group of the account's open orders, filled: the account as it would be,
    /// compiled like the account itself (``Account/filling(_:catalog:valuationAsset:)``).
    struct OrderFill: Sendable {
        /// `open_orders_margin` (orders that are not MMP quotes) or `mmp_margin` (MMP quotes, each
        /// up to its quote size).
        var group: String
        var side: OpenOrder.Side
        var orderCount: Int
        var contracts: Double
        var exposure: AccountExposure
    }
    /// The filled sides of the account's open orders (empty without orders).
    let orderFills: [OrderFill]

    /// The underlyings whose markets this account's margin depends on.
    public var underlyings: [String] {
        guard !orderFills.isEmpty else { return units.map(\.underlying) }
        return Array(Set(units.map(\.underlying) + orderFills.flatMap(\.exposure.underlyings))).sorted()
    }

    /// A unit's option holdings (indices are those of ``optionHoldings``).
    func options(of unit: borrowing UnitExposure) -> ArraySlice<OptionHolding> { optionHoldings[unit.options] }

    /// A unit's futures and perpetual positions (indices into `account.positions`). Empty lists do
    /// not touch (retain) the flat arrays; most accounts have none.
    @inline(__always)
    func deltaOne(of unit: borrowing UnitExposure) -> ArraySlice<Int> { unit.deltaOne.isEmpty ? [] : deltaOnePositions[unit.deltaOne] }

    /// A unit's linked balances: asset and amount.
    @inline(__always)
    func linkedBalances(of unit: borrowing UnitExposure) -> ArraySlice<(asset: String, amount: Double)> {
        unit.linkedBalances.isEmpty ? [] : linkedAssets[unit.linkedBalances]
    }

    /// Runs `body` with a unit's option holdings as a buffer indexed from 0.
    @inline(__always)
    func withOptions<R>(of unit: borrowing UnitExposure, _ body: (UnsafeBufferPointer<OptionHolding>) -> R) -> R {
        let range = unit.options
        return optionHoldings.withUnsafeBufferPointer { all in body(UnsafeBufferPointer(rebasing: all[range])) }
    }

    /// Resolves `account` against `catalog` and the risk books of its underlyings (built from the
    /// same catalog revision). Throws for unknown instruments, spot assets held as positions,
    /// non-finite amounts, duplicate positions, and underlyings without parameters or book.
    public init(account: Account, catalog: InstrumentCatalog, books: [String: RiskBook], parameters: RiskParameters) throws(MarginError) {
        try account.validate(instruments: catalog)
        self.account = account
        self.catalogRevision = catalog.revision
        var used: [String: Instrument] = [:]
        /// Per underlying while resolving: option holdings, delta-one positions, linked balances.
        struct Pending {
            var options: [OptionHolding] = []
            var deltaOne: [Int] = []
            var linked: [(asset: String, amount: Double)] = []
            var holdsPerpetual = false
        }
        var byUnderlying: [String: Pending] = [:]
        for (index, position) in account.positions.enumerated() where position.quantity != 0 {
            guard let instrument = catalog[position.instrument] else { throw .unknownInstrument(position.instrument) }
            if instrument.kind.isDeltaOne { used[instrument.name] = instrument } // options resolve through their book's slot
            guard parameters.riskUnit(for: instrument.underlying) != nil else {
                throw .missingParameters(underlying: instrument.underlying)
            }
            var entry = byUnderlying[instrument.underlying] ?? Pending()
            switch instrument.kind {
            case .option:
                guard let book = books[instrument.underlying] else { throw .missingMarket(underlying: instrument.underlying) }
                guard book.catalogRevision == catalog.revision, let slot = book.slot(of: instrument.name) else {
                    throw .invalidInput(field: "risk book \(instrument.underlying)", reason: "built from another instrument catalog revision")
                }
                guard let holding = OptionHolding(slot: slot, quantity: position.quantity, stride: book.stride) else {
                    throw .invalidInput(field: "risk book \(instrument.underlying)", reason: "too large for 32-bit row offsets")
                }
                entry.options.append(holding)
            case .future:
                entry.deltaOne.append(index)
            case .perpetual:
                entry.deltaOne.append(index)
                entry.holdsPerpetual = true
            case .spot:
                break // refused by validate
            }
            byUnderlying[instrument.underlying] = entry
        }
        for (asset, amount) in account.balances.sorted(by: { $0.key < $1.key }) where amount != 0 && asset != parameters.valuationAsset {
            let underlying = catalog[asset]?.underlying ?? asset
            if let instrument = catalog[asset] { used[asset] = instrument }
            guard parameters.collateralParameters(for: asset).riskLinked, parameters.riskUnit(for: underlying) != nil else { continue }
            byUnderlying[underlying, default: Pending()].linked.append((asset, amount))
        }
        for underlying in byUnderlying.keys where books[underlying] == nil {
            throw .missingMarket(underlying: underlying)
        }
        // Flatten in underlying order, each unit's options sorted by slot; exact-size arrays.
        let pending = byUnderlying.sorted { $0.key < $1.key }
        var holdings: [OptionHolding] = [], deltaOne: [Int] = [], linked: [(asset: String, amount: Double)] = []
        holdings.reserveCapacity(pending.reduce(0) { $0 + $1.value.options.count })
        deltaOne.reserveCapacity(pending.reduce(0) { $0 + $1.value.deltaOne.count })
        linked.reserveCapacity(pending.reduce(0) { $0 + $1.value.linked.count })
        var units: [UnitExposure] = []
        units.reserveCapacity(pending.count)
        for (underlying, entry) in pending {
            let options = holdings.count..<(holdings.count + entry.options.count)
            let sorted = entry.options.sorted { $0.slot < $1.slot }
            holdings += sorted
            let positions = deltaOne.count..<(deltaOne.count + entry.deltaOne.count)
            deltaOne += entry.deltaOne
            let assets = linked.count..<(linked.count + entry.linked.count)
            linked += entry.linked
            units.append(UnitExposure(underlying: underlying, options: options, deltaOne: positions, linkedBalances: assets,
                                      holdsPerpetual: entry.holdsPerpetual,
                                      nakedShortUnits: Self.nakedShortUnits(sorted, instruments: books[underlying]?.instruments ?? [])))
        }
        self.units = units
        self.optionHoldings = holdings
        self.deltaOnePositions = deltaOne
        self.linkedAssets = linked
        self.balances = account.balances.filter { $0.value != 0 }.map { ($0.key, $0.value) }
        self.instruments = used
        var fills: [OrderFill] = []
        for (group, mmp) in [("open_orders_margin", false), ("mmp_margin", true)] {
            for side in OpenOrder.Side.allCases {
                let orders = account.openOrders.filter { ($0.mmpQuoteSize != nil) == mmp && $0.side == side }
                let quantities = orders.map { (order: $0, quantity: $0.fillableQuantity) }
                let contracts = quantities.reduce(0) { $0 + $1.quantity }
                guard contracts > 0 else { continue }
                let filled = try account.filling(quantities, catalog: catalog, valuationAsset: parameters.valuationAsset)
                fills.append(OrderFill(group: group, side: side, orderCount: orders.count, contracts: contracts,
                                       exposure: try AccountExposure(account: filled, catalog: catalog, books: books, parameters: parameters)))
            }
        }
        self.orderFills = fills
    }

    /// Σ over strikes of max(0, shorts − longs) in underlying units, for holdings sorted by slot
    /// (grouped by expiry, then strike) of a book whose slot order is `instruments`.
    static func nakedShortUnits(_ holdings: [OptionHolding], instruments: [Instrument]) -> Double {
        var naked = 0.0
        var start = 0
        while start < holdings.count {
            guard case .option(let expiryMs, let strike, _) = instruments[holdings[start].slot].kind else { start += 1; continue }
            var shorts = 0.0, longs = 0.0
            var end = start
            while end < holdings.count, case .option(let e, let k, _) = instruments[holdings[end].slot].kind, e == expiryMs, k == strike {
                let units = holdings[end].quantity * instruments[holdings[end].slot].contractSize
                if units < 0 { shorts -= units } else { longs += units }
                end += 1
            }
            naked += max(0, shorts - longs)
            start = end
        }
        return naked
    }
}
