import MarginCore

/// An instrument that is re-listed every backtest day relative to that day: a perpetual, or an
/// option `tenorDays` from the day with strike `moneyness × index`.
///
/// Names: `BTC-PERPETUAL`, `BTC-30D-0.9-P` (underlying, tenor in days, moneyness, C or P). These
/// are the names `--portfolios FILE` positions use.
public struct RollingInstrument: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case perpetual
        case option(tenorDays: Int, moneyness: Double, right: OptionRight)
    }

    public var underlying: String
    public var kind: Kind

    public init(underlying: String, kind: Kind) {
        self.underlying = underlying
        self.kind = kind
    }

    public var name: String {
        switch kind {
        case .perpetual: return "\(underlying)-PERPETUAL"
        case .option(let tenor, let moneyness, let right): return "\(underlying)-\(tenor)D-\(moneyness)-\(right == .call ? "C" : "P")"
        }
    }

    /// Parses a rolling instrument name (see the type's documentation).
    public init(name: String) throws(MarginError) {
        let parts = name.split(separator: "-").map(String.init)
        if parts.count == 2, parts[1] == "PERPETUAL" {
            self.init(underlying: parts[0], kind: .perpetual)
            return
        }
        guard parts.count == 4, parts[1].hasSuffix("D"), let tenor = Int(parts[1].dropLast()), tenor >= 1, tenor <= 730,
              let moneyness = Double(parts[2]), moneyness > 0.05, moneyness < 20, parts[3] == "C" || parts[3] == "P" else {
            throw .invalidInput(field: "instrument \(name)", reason: "backtest instruments are UNDERLYING-PERPETUAL or UNDERLYING-<days>D-<moneyness>-<C|P>, e.g. BTC-30D-0.9-P")
        }
        self.init(underlying: parts[0], kind: .option(tenorDays: tenor, moneyness: moneyness, right: parts[3] == "C" ? .call : .put))
    }
}

/// A frozen portfolio of rolling instruments. A leg's `quantity` is in contracts, or, when
/// `perNotional` is true, in USD of notional converted to contracts at each day's index.
public struct BacktestPortfolio: Sendable, Hashable {
    public struct Leg: Sendable, Hashable {
        public var instrument: RollingInstrument
        public var quantity: Double
        public var perNotional: Bool

        public init(_ instrument: RollingInstrument, quantity: Double, perNotional: Bool = false) {
            self.instrument = instrument
            self.quantity = quantity
            self.perNotional = perNotional
        }
    }

    public var name: String
    public var legs: [Leg]

    public init(name: String, legs: [Leg]) {
        self.name = name
        self.legs = legs
    }

    public var underlyings: [String] { Array(Set(legs.map(\.instrument.underlying))).sorted() }

    /// A portfolio from an account's positions (quantities in contracts; balances are ignored:
    /// the backtest measures the positions' risk).
    public init(account: Account) throws(MarginError) {
        var legs: [Leg] = []
        for position in account.positions where position.quantity != 0 {
            legs.append(Leg(try RollingInstrument(name: position.instrument), quantity: position.quantity))
        }
        guard !legs.isEmpty else { throw .invalidInput(field: "portfolio \(account.id)", reason: "has no positions") }
        self.init(name: account.id, legs: legs)
    }

    /// The built-in set for these underlyings: per underlying a long perp, a short perp, a short
    /// strangle, a covered call and a calendar spread; per pair a pair trade; and one seeded
    /// random book over all of them (1–20 positions, Pareto-sized, as the demo's generator draws).
    /// Sizes are $1M of notional per leg at each day's index.
    public static func builtin(underlyings: [String], seed: UInt64 = 42) -> [BacktestPortfolio] {
        let notional = 1_000_000.0
        func perp(_ u: String) -> RollingInstrument { RollingInstrument(underlying: u, kind: .perpetual) }
        func option(_ u: String, _ days: Int, _ m: Double, _ right: OptionRight) -> RollingInstrument {
            RollingInstrument(underlying: u, kind: .option(tenorDays: days, moneyness: m, right: right))
        }
        var result: [BacktestPortfolio] = []
        for u in underlyings {
            result.append(.init(name: "\(u) long perp", legs: [.init(perp(u), quantity: notional, perNotional: true)]))
            result.append(.init(name: "\(u) short perp", legs: [.init(perp(u), quantity: -notional, perNotional: true)]))
            result.append(.init(name: "\(u) short strangle", legs: [
                .init(option(u, 30, 0.9, .put), quantity: -notional, perNotional: true),
                .init(option(u, 30, 1.1, .call), quantity: -notional, perNotional: true),
            ]))
            result.append(.init(name: "\(u) covered call", legs: [
                .init(perp(u), quantity: notional, perNotional: true),
                .init(option(u, 30, 1.1, .call), quantity: -notional, perNotional: true),
            ]))
            result.append(.init(name: "\(u) calendar spread", legs: [
                .init(option(u, 7, 1, .call), quantity: -notional, perNotional: true),
                .init(option(u, 60, 1, .call), quantity: notional, perNotional: true),
            ]))
        }
        for (i, a) in underlyings.enumerated() {
            for b in underlyings[(i + 1)...] {
                result.append(.init(name: "\(a)/\(b) pair", legs: [
                    .init(perp(a), quantity: notional, perNotional: true),
                    .init(perp(b), quantity: -notional, perNotional: true),
                ]))
            }
        }
        if !underlyings.isEmpty { result.append(randomBook(underlyings: underlyings, seed: seed)) }
        return result
    }

    /// A seeded random book: 1–20 positions on perpetuals and options (tenors 7–90 days, moneyness
    /// 0.7–1.3), each leg's notional Pareto-distributed (α = 1.5, from $50k), long or short.
    static func randomBook(underlyings: [String], seed: UInt64) -> BacktestPortfolio {
        var generator = SeededGenerator(seed: seed)
        let count = Int.random(in: 1...20, using: &generator)
        var legs: [Leg] = []
        for _ in 0..<count {
            let u = underlyings[Int.random(in: 0..<underlyings.count, using: &generator)]
            let size = 50_000 * pow(Double.random(in: Double.ulpOfOne..<1, using: &generator), -1 / 1.5)
            let sign: Double = Bool.random(using: &generator) ? 1 : -1
            let instrument: RollingInstrument
            if Double.random(in: 0..<1, using: &generator) < 0.3 {
                instrument = RollingInstrument(underlying: u, kind: .perpetual)
            } else {
                let tenor = [7, 14, 30, 60, 90][Int.random(in: 0..<5, using: &generator)]
                let moneyness = (Double.random(in: 0.7...1.3, using: &generator) * 20).rounded() / 20
                instrument = RollingInstrument(underlying: u, kind: .option(tenorDays: tenor, moneyness: moneyness,
                                                                            right: Bool.random(using: &generator) ? .call : .put))
            }
            if let existing = legs.firstIndex(where: { $0.instrument == instrument }) {
                legs[existing].quantity += sign * min(size, 20_000_000)
            } else {
                legs.append(Leg(instrument, quantity: sign * min(size, 20_000_000), perNotional: true))
            }
        }
        legs.removeAll { $0.quantity == 0 }
        return BacktestPortfolio(name: "random book", legs: legs)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
