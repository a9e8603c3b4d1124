import Foundation
import MarginCore

/// Synthetic but realistic inputs for benchmarks and tests: a BTC-like market with SVI smiles,
/// a strike ladder per expiry, and random option accounts. Deterministic for a seed.
public enum SyntheticBook {
    /// A 40-scenario grid: 13 spot points (±18%) × vol up/none/down, plus one dampened tail.
    public static func parameters(underlying: String = "BTC") -> RiskParameters {
        var scenarios: [Scenario] = []
        for step in -6...6 {
            for shock in [Scenario.VolatilityShock.up, .none, .down] {
                scenarios.append(Scenario(spotShock: 1 + 0.03 * Double(step), volatilityShock: shock))
            }
        }
        scenarios.append(Scenario(spotShock: 0.34, volatilityShock: .up, dampening: 0.33))
        let unit = RiskUnitParameters(
            scenarios: scenarios,
            volatilityShock: VolatilityShockRule(rangeUp: 0.5, rangeDown: 0.25, shortTermPower: 0.3, longTermPower: 0.13, minimumVolatilityUp: 0.5),
            shortOptionContingency: PercentContingency(maintenance: 0.01, initial: 0.012),
            deltaOneContingency: PercentContingency(maintenance: 0.01, initial: 0.012),
            maintenanceFactor: 0.8, initialFactor: 1)
        return RiskParameters(id: "synthetic", version: 1, valuationAsset: "USDC", riskUnits: [underlying: unit],
                              collateral: [underlying: CollateralParameters(maintenanceHaircut: 0, initialHaircut: 0.02)])
    }

    /// `expiries` monthly expiries with `strikesPerExpiry` strikes each (calls and puts).
    public static func market(underlying: String = "BTC", index: Double = 60_000, expiries: Int = 5, strikesPerExpiry: Int = 40,
                              nowMs: Int64 = 1_700_000_000_000) -> (market: UnderlyingMarket, catalog: InstrumentCatalog) {
        var instruments: [Instrument] = []
        var expiryMarkets: [ExpiryMarket] = []
        for e in 0..<expiries {
            let days = [2.0, 9, 30, 91, 182, 365][e % 6] + Double(e / 6) * 365
            let expiryMs = nowMs + Int64(days * 86_400_000)
            let t = days / 365
            let forward = index * Foundation.exp(0.05 * t)
            let atmVariance = 0.6 * 0.6 * t
            expiryMarkets.append(ExpiryMarket(
                expiryMs: expiryMs, forward: forward, rate: 0.03,
                smile: SVIParameters(a: atmVariance * 0.8, b: 0.1 * t.squareRoot(), rho: -0.3, m: 0.02, sigma: 0.2)))
            for s in 0..<strikesPerExpiry {
                let moneyness = 0.5 + 1.0 * Double(s) / Double(max(strikesPerExpiry - 1, 1))
                let strike = (forward * moneyness / 500).rounded() * 500
                for right in OptionRight.allCases {
                    let name = "\(underlying)-\(expiryMs)-\(Int(strike))-\(right == .call ? "C" : "P")"
                    instruments.append(Instrument(name: name, underlying: underlying,
                                                  kind: .option(expiryMs: expiryMs, strike: strike, right: right)))
                }
            }
        }
        instruments.append(Instrument(name: "\(underlying)-PERPETUAL", underlying: underlying, kind: .perpetual))
        let market = UnderlyingMarket(underlying: underlying, timestampMs: nowMs, indexPrice: index, expiries: expiryMarkets,
                                      perpetualMark: index)
        return (market, InstrumentCatalog(instruments))
    }

    /// Random option accounts of `positions` positions each, on the catalog's options.
    public static func accounts(count: Int, positions: Int, catalog: InstrumentCatalog, underlying: String = "BTC",
                                seed: UInt64) -> [Account] {
        var generator = SeededGenerator(seed: seed)
        let options = catalog.options(on: underlying)
        guard !options.isEmpty else { return [] }
        return (0..<count).map { index in
            var chosen = Set<Int>()
            while chosen.count < min(positions, options.count) { chosen.insert(Int.random(in: 0..<options.count, using: &generator)) }
            let held = chosen.sorted().map { slot in
                Position(instrument: options[slot].name, quantity: (Double.random(in: -20...20, using: &generator) * 10).rounded() / 10)
            }
            return Account(id: "acct-\(index)", version: 1, balances: ["USDC": 1_000_000], positions: held)
        }
    }
}
