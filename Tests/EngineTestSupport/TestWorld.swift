import MarginCore

/// A small two-underlying world: BTC options and perpetual, ETH perpetual.
public enum TestWorld {
    public static let expiry: Int64 = 1_700_000_000_000 + 30 * 86_400_000

    public static var instruments: [Instrument] {
        [
            Instrument(name: "BTC", underlying: "BTC", kind: .spot),
            Instrument(name: "ETH", underlying: "ETH", kind: .spot),
            Instrument(name: "USDC", underlying: "USDC", kind: .spot),
            Instrument(name: "BTC-PERPETUAL", underlying: "BTC", kind: .perpetual, lotSize: 0.001),
            Instrument(name: "ETH-PERPETUAL", underlying: "ETH", kind: .perpetual, lotSize: 0.01),
            Instrument(name: "BTC-C-60000", underlying: "BTC", kind: .option(expiryMs: expiry, strike: 60_000, right: .call), lotSize: 0.1),
            Instrument(name: "BTC-P-55000", underlying: "BTC", kind: .option(expiryMs: expiry, strike: 55_000, right: .put), lotSize: 0.1),
        ]
    }

    public static func btc(index: Double, at timestamp: Int64, confidence: Double = 1) -> UnderlyingMarket {
        UnderlyingMarket(underlying: "BTC", timestampMs: timestamp, indexPrice: index, indexConfidence: confidence,
                         expiries: [ExpiryMarket(expiryMs: expiry, forward: index * 1.004, rate: 0.03,
                                                 smile: SVIParameters(a: 0.02, b: 0.05, rho: -0.2, m: 0, sigma: 0.2))],
                         perpetualMark: index, orderBooks: ["BTC-PERPETUAL": OrderBook(bidPrice: index - 5, bidSize: 50, askPrice: index + 5, askSize: 50)])
    }

    public static func eth(index: Double, at timestamp: Int64) -> UnderlyingMarket {
        UnderlyingMarket(underlying: "ETH", timestampMs: timestamp, indexPrice: index, perpetualMark: index,
                         orderBooks: ["ETH-PERPETUAL": OrderBook(bidPrice: index - 0.5, bidSize: 500, askPrice: index + 0.5, askSize: 500)])
    }

    public static func usdc(at timestamp: Int64) -> UnderlyingMarket {
        UnderlyingMarket(underlying: "USDC", timestampMs: timestamp, indexPrice: 1)
    }

    /// BTC accounts b0…, ETH accounts e0….
    public static func accounts(btc: Int, eth: Int, version: UInt64 = 1) -> [Account] {
        (0..<btc).map { i in
            Account(id: "b\(i)", version: version, balances: ["USDC": 50_000 + Double(i) * 1_000],
                    positions: [Position(instrument: "BTC-C-60000", quantity: -2 - Double(i)),
                                Position(instrument: "BTC-PERPETUAL", quantity: 0.5, averageEntryPrice: 59_000)])
        } + (0..<eth).map { i in
            Account(id: "e\(i)", version: version, balances: ["USDC": 20_000],
                    positions: [Position(instrument: "ETH-PERPETUAL", quantity: 10 + Double(i), averageEntryPrice: 3_000)])
        }
    }
}
