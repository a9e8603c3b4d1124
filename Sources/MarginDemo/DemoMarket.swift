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
    /// The options' displayed ladders (BTC per contract), 24 h volume and open interest from the
    /// chain (its `bids`, `asks`, `stats.volume` and `open_interest` columns).
    let optionBooks: [String: OrderBook]
    /// Each booked option's model price (BTC) at the opening snapshot: later snapshots shift the
    /// ladder by the model price's move, so the books stay around the marks.
    private(set) var openingModelPrices: [String: Double]

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
        let books = try Self.chainBooks()
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
            }
        }
        self.instruments = instruments
        self.expiries = expiries
        self.optionBooks = books
        self.openingModelPrices = [:]
        self.openingModelPrices = modelPrices(in: snapshot(at: startMs, path: CrashPath()))
    }

    /// Black-76 prices (BTC per contract, inverse) of the booked options in `market`.
    func modelPrices(in market: UnderlyingMarket) -> [String: Double] {
        let surface = VolatilitySurface(market: market)
        var prices: [String: Double] = [:]
        for instrument in instruments where optionBooks[instrument.name] != nil {
            guard case .option(let expiryMs, let strike, let right) = instrument.kind, let expiry = market.expiry(at: expiryMs) else { continue }
            let t = VolatilitySurface.yearFraction(from: market.timestampMs, to: expiryMs)
            prices[instrument.name] = Black76.price(Black76Inputs(
                forward: expiry.forward, strike: strike, timeToExpiry: t,
                volatility: surface.volatility(expiry: expiry, strike: strike, nowMs: market.timestampMs), right: right, settlement: .inverse))
        }
        return prices
    }

    /// The chain's option books: displayed ladders, 24 h volume (an absent volume is 0) and open interest.
    static func chainBooks() throws -> [String: OrderBook] {
        guard let path = DeribitChain.bundledSnapshotPath, let data = FileManager.default.contents(atPath: path) else {
            throw ConformanceError.io("bundled chain snapshot missing")
        }
        let rows = csvRows(String(decoding: data, as: UTF8.self))
        guard let header = rows.first else { throw ConformanceError.malformed(path: "chain csv", reason: "empty") }
        var column: [String: Int] = [:]
        for (index, name) in header.enumerated() { column[name] = index }
        guard let name = column["instrument_name"], let bids = column["bids"], let asks = column["asks"], let stats = column["stats"],
              let openInterest = column["open_interest"] else {
            throw ConformanceError.malformed(path: "chain csv header", reason: "needs instrument_name, bids, asks, stats, open_interest")
        }
        var books: [String: OrderBook] = [:]
        for row in rows.dropFirst() where row.count == header.count {
            let book = OrderBook(bids: ladder(row[bids]), asks: ladder(row[asks]), volume24h: statistic("volume", in: row[stats]) ?? 0,
                                 openInterest: Double(row[openInterest]))
            if book.bidSize > 0 || book.askSize > 0 { books[row[name]] = book }
        }
        return books
    }

    /// `[[price, size], …]` as levels (sizes 0 dropped).
    static func ladder(_ text: String) -> [PriceLevel] {
        let numbers = text.split { !"0123456789.eE+-".contains($0) }.compactMap { Double($0) }
        return stride(from: 0, to: numbers.count - 1, by: 2).compactMap { i in
            numbers[i + 1] > 0 ? PriceLevel(price: numbers[i], size: numbers[i + 1]) : nil
        }
    }

    /// `'name': value` from Deribit's Python-dict rendering (nil for `None`).
    static func statistic(_ name: String, in text: String) -> Double? {
        guard let range = text.range(of: "'\(name)':") else { return nil }
        return Double(text[range.upperBound...].drop { $0 == " " }.prefix { "0123456789.-+eE".contains($0) })
    }

    /// CSV rows; quoted fields may hold commas (the chain has no escaped quotes).
    static func csvRows(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = ""
        var quoted = false
        var iterator = text.makeIterator()
        while let c = iterator.next() {
            if quoted {
                if c == "\"" { quoted = false } else { field.append(c) }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                row.append(field)
                field = ""
            } else if c == "\n" || c == "\r\n" {
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            } else if c != "\r" {
                field.append(c)
            }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }

    static func expiryLabel(_ ms: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "dMMMyy"
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000)).uppercased()
    }

    /// The BTC snapshot at simulated time `nowMs` on `path`: index and forwards scaled, total
    /// variance scaled by the vol spike, skew steepened (ρ pushed down), books around the marks:
    /// the chain's option ladders shifted by their model price's move, five-level delta-one books.
    public func snapshot(at nowMs: Int64, path: CrashPath) -> UnderlyingMarket {
        let state = path.state(atSeconds: Double(nowMs - startMs) / 1000)
        return snapshot(at: nowMs, move: MarketMove(indexFactor: state.indexFactor, volatilityFactor: state.volatilityFactor,
                                                    skewShift: state.skewShift))
    }

    /// The BTC snapshot at `nowMs` moved by `state` from the opening chain (see ``snapshot(at:path:)``).
    public func snapshot(at nowMs: Int64, move state: MarketMove) -> UnderlyingMarket {
        let spot = index * state.indexFactor
        let expiryMarkets = expiries.filter { $0.expiryMs > nowMs }.map { e -> ExpiryMarket in
            var smile = e.smile
            let spike = state.volatilityFactor * state.volatilityFactor
            smile.a *= spike
            smile.b *= spike
            smile.rho = max(-0.95, min(0.95, smile.rho - state.skewShift))
            return ExpiryMarket(expiryMs: e.expiryMs, forward: spot * e.forwardRatio, smile: smile)
        }
        var books: [String: OrderBook] = [:]
        books[Self.perpetual] = Self.ladder(around: spot, halfSpread: 0.5, step: 2, size: 40_000, volume: 150_000_000, openInterest: 60_000_000)
        books[Self.linearPerpetual] = Self.ladder(around: spot, halfSpread: 1, step: 5, size: 60, volume: 20_000, openInterest: 5_000)
        for e in expiries where e.expiryMs > nowMs {
            books["BTC-\(Self.expiryLabel(e.expiryMs))"] = Self.ladder(around: spot * e.forwardRatio, halfSpread: 1, step: 5, size: 20_000,
                                                                      volume: 10_000_000, openInterest: 15_000_000)
        }
        var market = UnderlyingMarket(underlying: "BTC", timestampMs: nowMs, indexPrice: spot, expiries: expiryMarkets,
                                      perpetualMark: spot, orderBooks: books)
        // Option ladders move with their model price (an additive shift keeps the spreads); bids
        // that would fall to 0 or below are withdrawn.
        let prices = openingModelPrices.isEmpty ? [:] : modelPrices(in: market)
        for (name, book) in optionBooks {
            guard let now = prices[name], let open = openingModelPrices[name] else {
                market.orderBooks[name] = book
                continue
            }
            let shift = now - open
            let bids = book.bids.map { PriceLevel(price: $0.price + shift, size: $0.size) }.filter { $0.price > 0 }
            let asks = book.asks.map { PriceLevel(price: $0.price + shift, size: $0.size) }.filter { $0.price > 0 }
            if !bids.isEmpty || !asks.isEmpty {
                market.orderBooks[name] = OrderBook(bids: bids, asks: asks, volume24h: book.volume24h, openInterest: book.openInterest)
            }
        }
        return market
    }

    /// Five levels a side around `price` (USD): the best `halfSpread` away, then every `step`, sizes
    /// growing 1, 1.5, 2, 3, 4 × `size` contracts. Volumes and open interest are assumed figures for a
    /// liquid venue (the chain has no delta-one data): perpetual 150 M contracts a day ($1.5 bn),
    /// linear perpetual 20,000 BTC, futures 10 M contracts ($100 M) each.
    static func ladder(around price: Double, halfSpread: Double, step: Double, size: Double, volume: Double, openInterest: Double) -> OrderBook {
        let multiples = [1, 1.5, 2, 3, 4]
        let bids = multiples.enumerated().map { PriceLevel(price: price - halfSpread - Double($0.offset) * step, size: size * $0.element) }
        let asks = multiples.enumerated().map { PriceLevel(price: price + halfSpread + Double($0.offset) * step, size: size * $0.element) }
        return OrderBook(bids: bids, asks: asks, volume24h: volume, openInterest: openInterest)
    }

    public func stablecoin(at nowMs: Int64) -> UnderlyingMarket {
        UnderlyingMarket(underlying: "USDC", timestampMs: nowMs, indexPrice: 1)
    }
}

/// How far a market has moved from the opening chain: the index and forwards scale by
/// `indexFactor`, implied volatility by `volatilityFactor` (total variance by its square), and the
/// smile's ρ falls by `skewShift` (a steeper put skew).
public struct MarketMove: Sendable, Hashable {
    public var indexFactor: Double
    public var volatilityFactor: Double
    public var skewShift: Double

    public init(indexFactor: Double = 1, volatilityFactor: Double = 1, skewShift: Double = 0) {
        self.indexFactor = indexFactor
        self.volatilityFactor = volatilityFactor
        self.skewShift = skewShift
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
