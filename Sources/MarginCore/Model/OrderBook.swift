/// One displayed price level of an order book: `price` in the instrument's quote units, `size` in
/// contracts (> 0 when shown).
public struct PriceLevel: Sendable, Hashable {
    public var price: Double
    public var size: Double

    public init(price: Double, size: Double) {
        self.price = price
        self.size = size
    }
}

/// The side of a book an order trades against: closing a long sells into the bids, closing a short
/// buys from the asks.
public enum BookSide: String, Sendable, Hashable {
    case bid, ask

    /// The side a position of this sign is closed against.
    public static func closing(quantity: Double) -> BookSide { quantity > 0 ? .bid : .ask }
}

/// The order book of one instrument: best bid and offer, optionally the displayed ladders, and the
/// instrument's trading statistics.
///
/// Units: prices in the instrument's quote units (USD for linear and inverse futures and
/// perpetuals, coins per contract for inverse options, the valuation asset for linear options);
/// sizes, `volume24h` and `openInterest` in contracts. When a ladder is given its first level is the
/// best price (`bidPrice`/`bidSize`, `askPrice`/`askSize` always equal it); bids descend, asks
/// ascend. An entry may carry only statistics (no levels, sizes 0).
public struct OrderBook: Sendable, Hashable {
    public var bidPrice: Double
    public var bidSize: Double
    public var askPrice: Double
    public var askSize: Double
    /// Displayed bid levels, best (highest) first; empty when only the top of book is known.
    public var bids: [PriceLevel]
    /// Displayed ask levels, best (lowest) first; empty when only the top of book is known.
    public var asks: [PriceLevel]
    /// Contracts traded over the last 24 hours (nil: unknown).
    public var volume24h: Double?
    /// Open interest in contracts (nil: unknown).
    public var openInterest: Double?

    /// Top of book only (and, optionally, statistics).
    public init(bidPrice: Double, bidSize: Double, askPrice: Double, askSize: Double,
                volume24h: Double? = nil, openInterest: Double? = nil) {
        self.bidPrice = bidPrice
        self.bidSize = bidSize
        self.askPrice = askPrice
        self.askSize = askSize
        self.bids = []
        self.asks = []
        self.volume24h = volume24h
        self.openInterest = openInterest
    }

    /// Full ladders, best first; the top of book is their first levels (0 when a side is empty).
    public init(bids: [PriceLevel], asks: [PriceLevel], volume24h: Double? = nil, openInterest: Double? = nil) {
        self.bidPrice = bids.first?.price ?? 0
        self.bidSize = bids.first?.size ?? 0
        self.askPrice = asks.first?.price ?? 0
        self.askSize = asks.first?.size ?? 0
        self.bids = bids
        self.asks = asks
        self.volume24h = volume24h
        self.openInterest = openInterest
    }

    /// Mid price, or the one side present when the other is empty (size 0).
    public var mid: Double? {
        switch (bidSize > 0, askSize > 0) {
        case (true, true): return 0.5 * (bidPrice + askPrice)
        case (true, false): return bidPrice
        case (false, true): return askPrice
        case (false, false): return nil
        }
    }

    /// Number of displayed levels on `side` (the top of book counts as one level when no ladder is given).
    @inlinable
    public func levelCount(_ side: BookSide) -> Int {
        switch side {
        case .bid: return bids.isEmpty ? (bidSize > 0 ? 1 : 0) : bids.count
        case .ask: return asks.isEmpty ? (askSize > 0 ? 1 : 0) : asks.count
        }
    }

    /// The `index`-th level of `side`, best first (`index < levelCount(side)`).
    @inlinable
    public func level(_ side: BookSide, _ index: Int) -> PriceLevel {
        switch side {
        case .bid: return bids.isEmpty ? PriceLevel(price: bidPrice, size: bidSize) : bids[index]
        case .ask: return asks.isEmpty ? PriceLevel(price: askPrice, size: askSize) : asks[index]
        }
    }

    /// Contracts displayed on `side`.
    public func depth(_ side: BookSide) -> Double {
        var total = 0.0
        for index in 0..<levelCount(side) { total += level(side, index).size }
        return total
    }

    /// Contracts displayed on `side` at prices within `band` of `reference` (both quote units),
    /// always including the best level.
    public func depth(_ side: BookSide, within band: Double, of reference: Double) -> Double {
        var total = 0.0
        for index in 0..<levelCount(side) {
            let level = level(side, index)
            if index > 0, abs(level.price - reference) > band { break }
            total += level.size
        }
        return total
    }

    /// Refuses non-finite or negative numbers, non-positive prices of shown levels, unsorted
    /// ladders, a top of book that is not the ladder's first level, and crossed books.
    public func validate(field f: String) throws(MarginError) {
        if bidSize > 0 { _ = try bidPrice.requirePositive("\(f).bid_price") }
        if askSize > 0 { _ = try askPrice.requirePositive("\(f).ask_price") }
        guard bidSize.isFinite, bidSize >= 0, askSize.isFinite, askSize >= 0 else {
            throw .invalidInput(field: "\(f)", reason: "sizes must be finite and ≥ 0")
        }
        if bidSize > 0, askSize > 0, bidPrice > askPrice {
            throw .invalidInput(field: "\(f)", reason: "crossed book (bid \(bidPrice) > ask \(askPrice))")
        }
        for (name, ladder, descending) in [("bids", bids, true), ("asks", asks, false)] {
            var previous: Double?
            for (index, level) in ladder.enumerated() {
                _ = try level.price.requirePositive("\(f).\(name)[\(index)].price")
                _ = try level.size.requirePositive("\(f).\(name)[\(index)].size")
                if let previous, descending ? level.price >= previous : level.price <= previous {
                    throw .invalidInput(field: "\(f).\(name)[\(index)]", reason: "levels must be sorted best first (\(descending ? "descending" : "ascending") prices)")
                }
                previous = level.price
            }
        }
        if let first = bids.first, first.price != bidPrice || first.size != bidSize {
            throw .invalidInput(field: "\(f).bid_price", reason: "top of book must equal the first bid level")
        }
        if let first = asks.first, first.price != askPrice || first.size != askSize {
            throw .invalidInput(field: "\(f).ask_price", reason: "top of book must equal the first ask level")
        }
        if let volume24h {
            guard volume24h.isFinite, volume24h >= 0 else { throw .invalidInput(field: "\(f).volume_24h", reason: "must be finite and ≥ 0") }
        }
        if let openInterest {
            guard openInterest.isFinite, openInterest >= 0 else { throw .invalidInput(field: "\(f).open_interest", reason: "must be finite and ≥ 0") }
        }
    }
}
