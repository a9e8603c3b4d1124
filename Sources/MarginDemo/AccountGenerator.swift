import Foundation
import MarginCore

/// A seeded generator of realistic option and perpetual books: covered calls, short strangles,
/// call and put spreads, delta-hedged short volatility, leveraged perpetual longs and shorts
/// (inverse and linear), futures; USDC cash and BTC collateral; heavy-tailed sizes; a few
/// accounts close to their maintenance limit. Cash is calibrated against the margin the
/// positions need, so the book starts mostly healthy.
public struct AccountGenerator: Sendable {
    public let seed: UInt64

    public init(seed: UInt64) {
        self.seed = seed
    }

    public enum Kind: String, CaseIterable, Sendable {
        case coveredCall = "covered_call", shortStrangle = "short_strangle", callSpread = "call_spread", putSpread = "put_spread"
        case deltaHedgedShortVol = "delta_hedged_short_vol", leveragedLong = "leveraged_long", leveragedShort = "leveraged_short"
        case futuresBasis = "futures"
    }

    public func generate(count: Int, market: DemoMarket, calculator: MarginCalculator) throws -> [Account] {
        var rng = SeededGenerator(seed: seed)
        let catalog = InstrumentCatalog(market.instruments)
        let snapshot = market.snapshot(at: market.startMs, path: CrashPath())
        let markets = MarketState([snapshot, market.stablecoin(at: market.startMs)])
        let books = ["BTC": try calculator.riskBook(for: "BTC", catalog: catalog, markets: markets, asOfMs: market.startMs)]
        // Liquid expiries (≥ 7 days) and their strikes.
        let options = catalog.options(on: "BTC").filter { ($0.kind.expiryMs ?? 0) - market.startMs >= 7 * 86_400_000 }
        let expiries = Array(Set(options.compactMap(\.kind.expiryMs))).sorted()
        let futures = market.instruments.filter { if case .future = $0.kind { return true } else { return false } }
        func option(_ expiry: Int64, _ moneyness: Double, _ right: OptionRight) -> String {
            let target = market.index * moneyness
            return options.filter { $0.kind.expiryMs == expiry && { if case .option(_, _, let r) = $0.kind { return r == right } else { return false } }($0) }
                .min { lhs, rhs in
                    guard case .option(_, let k1, _) = lhs.kind, case .option(_, let k2, _) = rhs.kind else { return false }
                    return abs(k1 - target) < abs(k2 - target)
                }!.name
        }
        /// Pareto-tailed size: mostly small, a few very large.
        func size(_ base: Double) -> Double {
            let u = Double.random(in: 0.0001..<1, using: &rng)
            return (base * Foundation.pow(u, -1 / 1.6) * 10).rounded() / 10
        }
        var accounts: [Account] = []
        accounts.reserveCapacity(count)
        for index in 0..<count {
            let kind = Kind.allCases[Int.random(in: 0..<Kind.allCases.count, using: &rng)]
            let expiry = expiries[Int.random(in: 0..<expiries.count, using: &rng)]
            var positions: [Position] = []
            var balances: [String: Double] = [:]
            switch kind {
            case .coveredCall:
                let q = size(1)
                balances["BTC"] = q
                positions = [Position(instrument: option(expiry, Double.random(in: 1.1...1.35, using: &rng), .call), quantity: -q)]
            case .shortStrangle:
                let q = size(1)
                positions = [Position(instrument: option(expiry, Double.random(in: 0.75...0.9, using: &rng), .put), quantity: -q),
                             Position(instrument: option(expiry, Double.random(in: 1.1...1.3, using: &rng), .call), quantity: -q)]
            case .callSpread:
                let q = size(2), long = Double.random(in: 0.95...1.1, using: &rng)
                let sign: Double = Bool.random(using: &rng) ? 1 : -1
                positions = [Position(instrument: option(expiry, long, .call), quantity: sign * q),
                             Position(instrument: option(expiry, long + 0.15, .call), quantity: -sign * q)]
            case .putSpread:
                let q = size(2), long = Double.random(in: 0.9...1.05, using: &rng)
                let sign: Double = Bool.random(using: &rng) ? 1 : -1
                positions = [Position(instrument: option(expiry, long, .put), quantity: sign * q),
                             Position(instrument: option(expiry, long - 0.15, .put), quantity: -sign * q)]
            case .deltaHedgedShortVol:
                let q = size(1)
                positions = [Position(instrument: option(expiry, 1.0, .call), quantity: -q),
                             Position(instrument: option(expiry, 1.0, .put), quantity: -q),
                             Position(instrument: DemoMarket.linearPerpetual, quantity: (q * Double.random(in: -0.1...0.1, using: &rng) * 1000).rounded() / 1000,
                                      averageEntryPrice: market.index)]
            case .leveragedLong:
                // Inverse perpetual: contracts of 10 USD.
                let usd = size(20_000)
                positions = [Position(instrument: DemoMarket.perpetual, quantity: (usd / 10).rounded(), averageEntryPrice: market.index * Double.random(in: 0.97...1.02, using: &rng))]
                if Bool.random(using: &rng) { balances["BTC"] = (usd / market.index / Double.random(in: 3...15, using: &rng) * 1000).rounded() / 1000 }
            case .leveragedShort:
                let btc = size(1)
                positions = [Position(instrument: DemoMarket.linearPerpetual, quantity: -btc, averageEntryPrice: market.index * Double.random(in: 0.98...1.03, using: &rng))]
            case .futuresBasis:
                let usd = size(20_000)
                let future = futures[Int.random(in: 0..<futures.count, using: &rng)]
                positions = [Position(instrument: future.name, quantity: (Bool.random(using: &rng) ? 1 : -1) * (usd / 10).rounded(),
                                      averageEntryPrice: market.index * Double.random(in: 0.99...1.03, using: &rng))]
            }
            positions = positions.filter { $0.quantity != 0 }
            var account = Account(id: String(format: "acct-%05d", index), version: 1, balances: balances, positions: Self.merged(positions))
            // Calibrate cash: most accounts comfortably above IM, a few just above MM.
            let exposure = try AccountExposure(account: account, catalog: catalog, books: books, parameters: calculator.parameters)
            let summary = try calculator.summary(exposure, books: books, markets: markets)
            let nearLimit = Double.random(in: 0..<1, using: &rng) < 0.04
            let multiple = nearLimit ? Double.random(in: 1.02...1.12, using: &rng) : Foundation.exp(Double.random(in: 0.1...1.2, using: &rng))
            let target = nearLimit ? summary.maintenanceRequirement * multiple : summary.initialRequirement * multiple
            account.balances["USDC"] = ((max(target, 100) - summary.equity) * 100).rounded() / 100
            accounts.append(account)
        }
        return accounts
    }

    /// Positions in the same instrument combined (the generator may pick one twice).
    static func merged(_ positions: [Position]) -> [Position] {
        var order: [String] = []
        var combined: [String: Position] = [:]
        for position in positions {
            if var existing = combined[position.instrument] {
                existing.quantity += position.quantity
                combined[position.instrument] = existing
            } else {
                order.append(position.instrument)
                combined[position.instrument] = position
            }
        }
        return order.compactMap { combined[$0] }.filter { $0.quantity != 0 }
    }
}
