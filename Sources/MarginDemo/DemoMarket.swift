import Foundation
import MarginConformance
import MarginCore

/// The demo's market: the real Deribit BTC chain (2020-05-14) as instruments and SVI surfaces,
/// plus perpetuals and futures consistent with it, and a crash path that moves it.
public struct DemoMarket: Sendable {
    public let instruments: [Instrument]
    /// The snapshot time of the chain (Unix ms) — simulated time starts here.
    public let startMs: Int64
    public let index: Double
    /// Per expiry: forward / index, the fitted smile and its fit error.
    public let expiries: [(expiryMs: Int64, forwardRatio: Double, smile: SVIParameters, rmsError: Double, quotes: Int)]
    /// Best bid/ask of the options from the chain, in BTC per contract.
    let optionBooks: [String: TopOfBook]

    public static let perpetual = "BTC-PERPETUAL"          // inverse, 10 USD per contract
    public static let linearPerpetual = "BTC-USDC-PERP"    // linear, 1 BTC per contract

    public init() throws {
        let chain = try DeribitChain.bundledSnapshot()
        startMs = chain.map(\.timestampMs).max() ?? 0
        let indexes = chain.map(\.indexPrice).sorted()
        index = indexes[indexes.count / 2]
        var instruments: [Instrument] = [
            Instrument(name: "BTC", underlying: "BTC", kind: .spot),
            Instrument(name: "USDC", underlying: "USDC", kind: .spot),
            Instrument(name: Self.perpetual, underlying: "BTC", kind: .perpetual, settlement: .inverse, contractSize: 10, lotSize: 1, tickSize: 0.5),
            Instrument(name: Self.linearPerpetual, underlying: "BTC", kind: .perpetual, settlement: .linear, contractSize: 1, lotSize: 0.001, tickSize: 0.5),
        ]
        var books: [String: TopOfBook] = [:]
        var expiries: [(Int64, Double, SVIParameters, Double, Int)] = []
        for (expiryMs, quotes) in Dictionary(grouping: chain, by: \.expiryMs).sorted(by: { $0.key < $1.key }) {
            let forwards = quotes.map(\.forward).sorted()
            let forward = forwards[forwards.count / 2]
            let t = Double(expiryMs - startMs) / 31_536_000_000
            let fit = try SVIFit.fit(points: quotes.map { (k: log($0.strike / forward), volatility: $0.markVolatility) }, timeToExpiry: t)
            expiries.append((expiryMs, forward / index, fit.parameters, fit.rmsVolatilityError, quotes.count))
            let date = Self.expiryLabel(expiryMs)
            instruments.append(Instrument(name: "BTC-\(date)", underlying: "BTC", kind: .future(expiryMs: expiryMs), settlement: .inverse,
                                          contractSize: 10, lotSize: 1, tickSize: 0.5))
            for quote in quotes {
                instruments.append(Instrument(name: quote.instrument, underlying: "BTC",
                                              kind: .option(expiryMs: expiryMs, strike: quote.strike, right: quote.right),
                                              settlement: .inverse, contractSize: 1, lotSize: 0.1, tickSize: 0.0005))
                if quote.bestBidSize > 0 || quote.bestAskSize > 0 {
                    books[quote.instrument] = TopOfBook(bidPrice: quote.bestBid, bidSize: quote.bestBidSize, askPrice: quote.bestAsk, askSize: quote.bestAskSize)
                }
            }
        }
        self.instruments = instruments
        self.expiries = expiries
        self.optionBooks = books
    }

    static func expiryLabel(_ ms: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "dMMMyy"
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000)).uppercased()
    }

    /// The BTC snapshot at simulated time `nowMs` on `path`: index and forwards scaled, total
    /// variance scaled by the vol spike, skew steepened (ρ pushed down), books around the marks.
    public func snapshot(at nowMs: Int64, path: CrashPath) -> UnderlyingMarket {
        let state = path.state(atSeconds: Double(nowMs - startMs) / 1000)
        let spot = index * state.indexFactor
        let expiryMarkets = expiries.filter { $0.expiryMs > nowMs }.map { e -> ExpiryMarket in
            var smile = e.smile
            let spike = state.volatilityFactor * state.volatilityFactor
            smile.a *= spike
            smile.b *= spike
            smile.rho = max(-0.95, min(0.95, smile.rho - state.skewShift))
            return ExpiryMarket(expiryMs: e.expiryMs, forward: spot * e.forwardRatio, smile: smile)
        }
        var books = optionBooks.mapValues { book in
            TopOfBook(bidPrice: book.bidPrice, bidSize: book.bidSize, askPrice: book.askPrice, askSize: book.askSize)
        }
        books[Self.perpetual] = TopOfBook(bidPrice: spot - 0.5, bidSize: 40_000, askPrice: spot + 0.5, askSize: 40_000)
        books[Self.linearPerpetual] = TopOfBook(bidPrice: spot - 1, bidSize: 60, askPrice: spot + 1, askSize: 60)
        for e in expiries where e.expiryMs > nowMs {
            let forward = spot * e.forwardRatio
            books["BTC-\(Self.expiryLabel(e.expiryMs))"] = TopOfBook(bidPrice: forward - 1, bidSize: 20_000, askPrice: forward + 1, askSize: 20_000)
        }
        return UnderlyingMarket(underlying: "BTC", timestampMs: nowMs, indexPrice: spot, expiries: expiryMarkets,
                                perpetualMark: spot, books: books)
    }

    public func stablecoin(at nowMs: Int64) -> UnderlyingMarket {
        UnderlyingMarket(underlying: "USDC", timestampMs: nowMs, indexPrice: 1)
    }
}

/// A market path: the index falls by `drop` over `crashSeconds` with a vol spike and a steeper
/// skew, then rebounds by `rebound` of the fall over `reboundSeconds`.
public struct CrashPath: Sendable, Hashable {
    public var drop = 0.25
    public var crashSeconds = 60.0
    public var rebound = 0.4
    public var reboundSeconds = 30.0
    public var volatilitySpike = 0.6
    public var skewSteepening = 0.25

    public init() {}

    public var totalSeconds: Double { crashSeconds + reboundSeconds }

    public func state(atSeconds s: Double) -> (indexFactor: Double, volatilityFactor: Double, skewShift: Double) {
        if s <= 0 { return (1, 1, 0) }
        if s <= crashSeconds {
            let x = s / crashSeconds
            let eased = x * x * (3 - 2 * x)
            return (1 - drop * eased, 1 + volatilitySpike * eased, skewSteepening * eased)
        }
        let y = min(1, (s - crashSeconds) / reboundSeconds)
        let bottom = 1 - drop
        return (bottom + drop * rebound * y, 1 + volatilitySpike * (1 - 0.5 * y), skewSteepening * (1 - 0.5 * y))
    }
}
