/// An order resting in the book. It commits initial margin, never maintenance margin: IM adds
/// the margin of filling the worse side of the account's orders (``MarginCalculator`` `+Orders`).
///
/// Units: `quantity` in contracts (> 0; the side gives the sign); `limitPrice` in the instrument's
/// quote units, as ``Position/averageEntryPrice`` (USD per underlying unit for futures and
/// perpetuals, the premium per contract for options: valuation units for linear options, coins
/// for inverse ones).
public struct OpenOrder: Sendable, Hashable {
    public enum Side: String, Sendable, Hashable, CaseIterable {
        case buy, sell

        /// +1 for a buy, −1 for a sell.
        public var sign: Double { self == .buy ? 1 : -1 }
    }

    public var id: String
    public var instrument: String
    public var side: Side
    public var quantity: Double
    public var limitPrice: Double
    /// Set for a market-maker-protection quote: the contracts that can fill before protection pulls
    /// the quotes (its reserve is `mmp_margin`, apart from the other orders' `open_orders_margin`).
    public var mmpQuoteSize: Double?

    public init(id: String = "", instrument: String, side: Side, quantity: Double, limitPrice: Double, mmpQuoteSize: Double? = nil) {
        self.id = id
        self.instrument = instrument
        self.side = side
        self.quantity = quantity
        self.limitPrice = limitPrice
        self.mmpQuoteSize = mmpQuoteSize
    }

    /// The contracts this order can fill in its group: all of them, or for an MMP quote at most its
    /// quote size.
    public var fillableQuantity: Double { mmpQuoteSize.map { min(quantity, $0) } ?? quantity }

    /// Refuses non-finite or out-of-bounds amounts, unknown instruments and spot assets.
    public func validate(field: String, instruments: InstrumentCatalog, bounds: InputBounds) throws(MarginError) {
        guard quantity.isFinite, quantity > 0 else {
            throw .invalidInput(field: "\(field).quantity", reason: "must be a positive finite number of contracts, got \(quantity)")
        }
        try bounds.check(quantity, bounds.maxQuantity, "\(field).quantity")
        _ = try limitPrice.requirePositive("\(field).limit_price")
        try bounds.check(limitPrice, bounds.maxPrice, "\(field).limit_price")
        if let size = mmpQuoteSize {
            guard size.isFinite, size >= 0 else {
                throw .invalidInput(field: "\(field).mmp_quote_size", reason: "must be a finite number of contracts ≥ 0, got \(size)")
            }
        }
        guard let instrument = instruments[instrument] else { throw .unknownInstrument(instrument) }
        if case .spot = instrument.kind {
            throw .invalidInput(field: "\(field).instrument", reason: "\(instrument.name) is a spot asset, not a derivative")
        }
    }
}

extension Account {
    /// The account as it would be after `fills` (order and contracts filled) at their limit prices,
    /// with no orders left: what the executor's books would show.
    ///
    /// - Options: the position grows by the fill; the premium (`quantity × limit × contract size`)
    ///   is paid from the valuation asset (linear) or the underlying coin (inverse), received on a sale.
    /// - Futures and perpetuals: a fill in the position's direction (or from flat) averages the
    ///   entry price (by quantity for linear contracts, harmonically — by coin amount — for inverse
    ///   ones); a fill against it closes up to the position's size at the limit price, realising
    ///   `closed × (limit − entry) × size` in the valuation asset (linear) or
    ///   `closed × size × (1/entry − 1/limit)` coins (inverse); any rest opens at the limit price.
    public func filling(_ fills: [(order: OpenOrder, quantity: Double)], catalog: InstrumentCatalog,
                        valuationAsset: String) throws(MarginError) -> Account {
        var result = self
        result.openOrders = []
        for (order, quantity) in fills where quantity > 0 {
            guard let instrument = catalog[order.instrument] else { throw .unknownInstrument(order.instrument) }
            let signed = order.side.sign * quantity
            let settlementAsset = instrument.settlement == .linear ? valuationAsset : instrument.underlying
            let index = result.positions.firstIndex { $0.instrument == order.instrument }
            var position = index.map { result.positions[$0] } ?? Position(instrument: order.instrument, quantity: 0)
            switch instrument.kind {
            case .option:
                position.quantity += signed
                result.balances[settlementAsset, default: 0] -= signed * order.limitPrice * instrument.contractSize
            case .future, .perpetual:
                let held = position.quantity
                if held == 0 || (held > 0) == (signed > 0) {
                    let total = held + signed
                    if instrument.settlement == .linear {
                        position.averageEntryPrice = (held * position.averageEntryPrice + signed * order.limitPrice) / total
                    } else {
                        let coins = (held == 0 ? 0 : held / position.averageEntryPrice) + signed / order.limitPrice
                        position.averageEntryPrice = total / coins
                    }
                    position.quantity = total
                } else {
                    let closed = held > 0 ? max(-held, signed) : min(-held, signed)   // same sign as the fill
                    let realised = instrument.settlement == .linear
                        ? -closed * (order.limitPrice - position.averageEntryPrice) * instrument.contractSize
                        : -closed * instrument.contractSize * (1 / position.averageEntryPrice - 1 / order.limitPrice)
                    result.balances[settlementAsset, default: 0] += realised
                    position.quantity = held + signed
                    if abs(signed) > abs(held) { position.averageEntryPrice = order.limitPrice }
                }
            case .spot:
                throw .invalidInput(field: "order \(order.id).instrument", reason: "\(instrument.name) is a spot asset, not a derivative")
            }
            if let index { result.positions[index] = position } else { result.positions.append(position) }
        }
        return result
    }
}
