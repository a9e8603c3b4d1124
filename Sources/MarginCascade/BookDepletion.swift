import Foundation
import MarginCore

/// What liquidations have taken from the displayed books, and the price impact that follows.
///
/// Each instrument's book keeps the contracts filled from its displayed levels per side; a fill takes
/// the best levels first, so the best price moves away. Every close-out also moves the index: its
/// delta (an option's, hedged by the makers who took it) is routed into the reference perpetual,
/// whose book the net flow walks (``LiquidityCostModel/closeCost(_:side:terms:)``: the displayed
/// levels, beyond them the impact model). Both decay with the scenario's half-life:
/// `2^(−t / half-life)` (transient impact with exponential resilience, Obizhaeva & Wang 2013,
/// "Optimal trading strategy and supply/demand dynamics", *J. Financial Markets* 16(1)).
struct BookDepletion: Sendable {
    struct Taken: Sendable, Equatable {
        var bid = 0.0
        var ask = 0.0
    }

    /// Contracts taken from the displayed levels, per instrument: bids (sales) and asks (purchases).
    private(set) var taken: [String: Taken] = [:]
    /// Net delta notional sold into the market (valuation units; negative: bought).
    private(set) var netSold = 0.0

    /// Records a fill: `displayed` contracts came from `instrument`'s displayed `side`, and the
    /// close-out's delta notional `soldDelta` (valuation units, > 0 sold) goes to the market.
    mutating func record(instrument: String, side: BookSide, displayed: Double, soldDelta: Double) {
        var entry = taken[instrument] ?? Taken()
        if side == .bid { entry.bid += displayed } else { entry.ask += displayed }
        taken[instrument] = entry
        netSold += soldDelta
    }

    /// Recovery over `seconds`.
    mutating func recover(seconds: Double, halfLife: Double) {
        guard seconds > 0 else { return }
        let keep = Foundation.exp2(-seconds / halfLife)
        netSold *= keep
        for (name, entry) in taken {
            let left = Taken(bid: entry.bid * keep, ask: entry.ask * keep)
            taken[name] = left.bid < 1e-9 && left.ask < 1e-9 ? nil : left
        }
    }

    /// `book` with every size scaled by `multiplier` and the taken contracts removed from the best levels.
    func displayed(_ book: OrderBook, instrument: String, multiplier: Double) -> OrderBook {
        let removed = taken[instrument] ?? Taken()
        func side(_ side: BookSide, _ take: Double) -> [PriceLevel] {
            var left = take
            var levels: [PriceLevel] = []
            for index in 0..<book.levelCount(side) {
                var level = book.level(side, index)
                level.size *= multiplier
                if left > 0 {
                    let used = min(left, level.size)
                    left -= used
                    level.size -= used
                }
                if level.size > 1e-12 * max(1, multiplier) { levels.append(level) }
            }
            return levels
        }
        return OrderBook(bids: side(.bid, removed.bid), asks: side(.ask, removed.ask), volume24h: book.volume24h,
                         openInterest: book.openInterest)
    }

    /// The index displacement (a fraction, negative when the net flow sold) of routing the net flow
    /// through `reference`'s undepleted book: how far its last contract lies beyond the best level
    /// (flow the best level absorbs leaves the price where it is), over the reference price.
    func indexDisplacement(reference: InstrumentLiquidity, model: LiquidityCostModel) -> Double {
        guard netSold != 0, reference.notional > 0, reference.referencePrice > 0 else { return 0 }
        let side: BookSide = netSold > 0 ? .bid : .ask
        let walk = model.closeCost(abs(netSold) / reference.notional, side: side, terms: reference)
        var first = 0.0
        if let book = reference.book, book.levelCount(side) > 0 {
            first = abs(book.level(side, 0).price * reference.quoteToValuation - reference.referencePrice)
        }
        let fraction = min(0.99, max(0, walk.worstDistance - first) / reference.referencePrice)
        return netSold > 0 ? -fraction : fraction
    }
}
