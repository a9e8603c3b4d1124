/// The cost of closing a quantity of one instrument, with what it was made of. Amounts are
/// valuation units (costs positive), quantities contracts.
public struct CloseCost: Sendable, Hashable {
    public var quantity: Double
    public var side: BookSide
    /// `walked + beyondCost`.
    public var total: Double
    /// Cost of the part filled from the displayed levels, `Σ fill·|level price − reference|`.
    public var walked: Double
    /// Contracts beyond the displayed depth (all of them without a book).
    public var beyondDepth: Double
    /// Cost of that part: `beyondDepth × (last level's distance + impact per contract)`, or
    /// `quantity × (no-book half spread + impact per contract)` without a book.
    public var beyondCost: Double
    /// Impact per contract of the impact model (0 when no volume or depth scales it).
    public var impactPerContract: Double
    /// The daily volume the impact model used: the 24 h volume, else the displayed depth (nil: none).
    public var volumeUsed: Double?
    /// Contracts displayed on the closing side within the stub band.
    public var displayedDepth: Double
    /// Displayed levels the walk reached.
    public var levelsUsed: Int
    /// Book mid (or the contract's value) per contract, the price distances are measured from.
    public var referencePrice: Double
    /// Distance from the reference of the last contract's expected price (per contract).
    public var worstDistance: Double
    /// Whether the closing side had no book at all (the no-book half spread applied).
    public var noBook: Bool

    /// The worst expected execution price in quote units: reference ∓ worst distance.
    public func worstPrice(quoteToValuation: Double) -> Double {
        guard quoteToValuation > 0 else { return 0 }
        let price = side == .bid ? referencePrice - worstDistance : referencePrice + worstDistance
        return max(0, price / quoteToValuation)
    }
}

extension LiquidityCostModel {
    /// The cost of closing `quantity` contracts of `terms.instrument` against `side`.
    ///
    /// Walks the displayed levels best first, each fill costing its distance from the reference
    /// price (the book mid: a quantity within the first level pays the half spread), up to the stub
    /// band (`stubBandSigmas × σ` from the reference; the best level always counts). Beyond that
    /// depth each contract pays the last walked level's distance plus the temporary impact
    /// `σ·impact(X/(V·T))` of the whole quantity `X` (``ImpactModel``), with `V` the 24 h volume
    /// or, when that is unknown or 0, the displayed depth. Without any level on the closing side
    /// every contract pays `max(noBookHalfSpread × σ, one tick)` plus the impact when the 24 h
    /// volume is known. On the bid side a contract's cost is capped at the reference price (a sale
    /// cannot fetch less than 0). Non-decreasing in `quantity`; never decreasing when displayed
    /// sizes shrink.
    public func closeCost(_ quantity: Double, side: BookSide, terms: InstrumentLiquidity) -> CloseCost {
        let x = max(0, quantity)
        let reference = terms.referencePrice
        let q2v = terms.quoteToValuation
        let volume = terms.book?.volume24h.flatMap { $0 > 0 ? $0 : nil }
        var result = CloseCost(quantity: x, side: side, total: 0, walked: 0, beyondDepth: 0, beyondCost: 0, impactPerContract: 0,
                               volumeUsed: nil, displayedDepth: 0, levelsUsed: 0, referencePrice: reference, worstDistance: 0,
                               noBook: false)
        let levels = terms.book?.levelCount(side) ?? 0
        guard let book = terms.book, levels > 0 else {
            result.noBook = true
            let tick = terms.instrument.tickSize * q2v
            let halfSpread = max(noBookHalfSpread * terms.dailyVolatility, tick)
            if let volume {
                result.volumeUsed = volume
                result.impactPerContract = impact.unitCost(quantity: x, dailyVolume: volume, dailyVolatility: terms.dailyVolatility,
                                                           horizonDays: horizonDays)
            }
            result.beyondDepth = x
            result.worstDistance = cap(halfSpread + result.impactPerContract, side: side, reference: reference)
            result.beyondCost = x * result.worstDistance
            result.total = result.beyondCost
            return result
        }
        var remaining = x
        var last = 0.0
        let band = stubBandSigmas * terms.dailyVolatility
        for index in 0..<levels {
            let level = book.level(side, index)
            let price = level.price * q2v
            let distance = max(0, side == .bid ? reference - price : price - reference)
            if index > 0, distance > band { break } // a stub quote; the rest of the ladder is farther
            result.displayedDepth += level.size
            guard remaining > 0 else { continue }
            let fill = min(remaining, level.size)
            result.walked += fill * distance
            remaining -= fill
            last = distance
            result.levelsUsed = index + 1
        }
        result.worstDistance = last
        if remaining > 0 {
            let scale = volume ?? (result.displayedDepth > 0 ? result.displayedDepth : nil)
            result.volumeUsed = scale
            if let scale {
                result.impactPerContract = impact.unitCost(quantity: x, dailyVolume: scale, dailyVolatility: terms.dailyVolatility,
                                                           horizonDays: horizonDays)
            }
            result.beyondDepth = remaining
            result.worstDistance = cap(last + result.impactPerContract, side: side, reference: reference)
            result.beyondCost = remaining * result.worstDistance
        }
        result.total = result.walked + result.beyondCost
        return result
    }

    /// A sale's cost per contract is at most the reference price; a purchase's is not bounded.
    func cap(_ distance: Double, side: BookSide, reference: Double) -> Double {
        side == .bid ? min(distance, max(reference, 0)) : distance
    }
}
