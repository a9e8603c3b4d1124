import MarginCore

extension Instrument {
    /// Builds and validates an instrument from its wire form.
    public init(proto p: Margin_V1_Instrument) throws(MarginError) {
        let kind: InstrumentKind
        let field = "instrument \(p.name)"
        switch p.kind {
        case .spot: kind = .spot
        case .perpetual: kind = .perpetual
        case .future: kind = .future(expiryMs: p.expiryMs)
        case .option:
            let right: OptionRight
            switch p.optionRight {
            case .call: right = .call
            case .put: right = .put
            case .unspecified, .UNRECOGNIZED:
                throw .invalidInput(field: "\(field).option_right", reason: "must be OPTION_RIGHT_CALL or OPTION_RIGHT_PUT")
            }
            kind = .option(expiryMs: p.expiryMs, strike: p.strike, right: right)
        case .unspecified, .UNRECOGNIZED:
            throw .invalidInput(field: "\(field).kind", reason: "must be set (INSTRUMENT_KIND_SPOT, _FUTURE, _PERPETUAL or _OPTION)")
        }
        self.init(name: p.name, underlying: p.underlying.isEmpty && kind == .spot ? p.name : p.underlying, kind: kind,
                  settlement: p.settlement == .inverse ? .inverse : .linear,
                  contractSize: p.contractSize == 0 ? 1 : p.contractSize,
                  lotSize: p.lotSize == 0 ? 0.01 : p.lotSize, tickSize: p.tickSize == 0 ? 0.01 : p.tickSize)
        try validate()
    }

    /// The wire form.
    public var proto: Margin_V1_Instrument {
        var p = Margin_V1_Instrument()
        p.name = name
        p.underlying = underlying
        p.settlement = settlement == .inverse ? .inverse : .linear
        p.contractSize = contractSize
        p.lotSize = lotSize
        p.tickSize = tickSize
        switch kind {
        case .spot: p.kind = .spot
        case .perpetual: p.kind = .perpetual
        case .future(let expiry):
            p.kind = .future
            p.expiryMs = expiry
        case .option(let expiry, let strike, let right):
            p.kind = .option
            p.expiryMs = expiry
            p.strike = strike
            p.optionRight = right == .call ? .call : .put
        }
        return p
    }
}

extension UnderlyingMarket {
    /// Builds and validates a market snapshot from its wire form (absent confidences are 1).
    public init(proto p: Margin_V1_MarketSnapshot) throws(MarginError) {
        let expiries = p.expiries.map { e in
            ExpiryMarket(
                expiryMs: e.expiryMs, forward: e.forward, forwardFixedPortion: e.forwardFixedPortion,
                forwardConfidence: e.hasForwardConfidence ? e.forwardConfidence : 1,
                rate: e.rate, rateConfidence: e.hasRateConfidence ? e.rateConfidence : 1,
                smile: SVIParameters(a: e.svi.a, b: e.svi.b, rho: e.svi.rho, m: e.svi.m, sigma: e.svi.sigma,
                                     tau: e.svi.hasTau ? e.svi.tau : nil,
                                     referenceForward: e.svi.hasReferenceForward ? e.svi.referenceForward : nil),
                volatilityConfidence: e.hasVolatilityConfidence ? e.volatilityConfidence : 1)
        }
        var books: [String: OrderBook] = [:]
        for book in p.books {
            books[book.instrument] = OrderBook(proto: book)
        }
        self.init(underlying: p.underlying, timestampMs: p.timestampMs, indexPrice: p.indexPrice,
                  indexConfidence: p.hasIndexConfidence ? p.indexConfidence : 1, expiries: expiries,
                  perpetualMark: p.hasPerpetualMark ? p.perpetualMark : nil,
                  perpetualConfidence: p.hasPerpetualConfidence ? p.perpetualConfidence : 1,
                  markVolatilities: p.markVolatilities, orderBooks: books)
        // Sorting happens in init; a duplicate expiry is still refused by validate.
        try validate()
    }

    /// The wire form.
    public var proto: Margin_V1_MarketSnapshot {
        var p = Margin_V1_MarketSnapshot()
        p.underlying = underlying
        p.timestampMs = timestampMs
        p.indexPrice = indexPrice
        p.indexConfidence = indexConfidence
        if let perpetualMark { p.perpetualMark = perpetualMark }
        p.perpetualConfidence = perpetualConfidence
        p.markVolatilities = markVolatilities
        p.expiries = expiries.map { e in
            var x = Margin_V1_ExpiryMarket()
            x.expiryMs = e.expiryMs
            x.forward = e.forward
            x.forwardFixedPortion = e.forwardFixedPortion
            x.forwardConfidence = e.forwardConfidence
            x.rate = e.rate
            x.rateConfidence = e.rateConfidence
            x.volatilityConfidence = e.volatilityConfidence
            var svi = Margin_V1_SviParameters()
            svi.a = e.smile.a
            svi.b = e.smile.b
            svi.rho = e.smile.rho
            svi.m = e.smile.m
            svi.sigma = e.smile.sigma
            if let tau = e.smile.tau { svi.tau = tau }
            if let forward = e.smile.referenceForward { svi.referenceForward = forward }
            x.svi = svi
            return x
        }
        p.books = orderBooks.sorted { $0.key < $1.key }.map { name, book in book.proto(instrument: name) }
        return p
    }
}

extension OrderBook {
    /// The wire form's book (validated with the snapshot): a ladder's first level stands for an
    /// omitted (zero) top of book.
    init(proto b: Margin_V1_TopOfBook) {
        self.init(bidPrice: b.bidPrice, bidSize: b.bidSize, askPrice: b.askPrice, askSize: b.askSize,
                  volume24h: b.hasVolume24H ? b.volume24H : nil, openInterest: b.hasOpenInterest ? b.openInterest : nil)
        bids = b.bids.map { PriceLevel(price: $0.price, size: $0.size) }
        asks = b.asks.map { PriceLevel(price: $0.price, size: $0.size) }
        if let first = bids.first, bidPrice == 0, bidSize == 0 {
            bidPrice = first.price
            bidSize = first.size
        }
        if let first = asks.first, askPrice == 0, askSize == 0 {
            askPrice = first.price
            askSize = first.size
        }
    }

    /// The wire form, keyed by `instrument`.
    func proto(instrument: String) -> Margin_V1_TopOfBook {
        var b = Margin_V1_TopOfBook()
        b.instrument = instrument
        b.bidPrice = bidPrice
        b.bidSize = bidSize
        b.askPrice = askPrice
        b.askSize = askSize
        b.bids = bids.map { level in
            var l = Margin_V1_PriceLevel()
            l.price = level.price
            l.size = level.size
            return l
        }
        b.asks = asks.map { level in
            var l = Margin_V1_PriceLevel()
            l.price = level.price
            l.size = level.size
            return l
        }
        if let volume24h { b.volume24H = volume24h }
        if let openInterest { b.openInterest = openInterest }
        return b
    }
}

extension MarketState {
    /// Markets and catalog from a ``Margin_V1_MarketData`` bundle (duplicate names are refused).
    public static func from(proto p: Margin_V1_MarketData) throws(MarginError) -> (markets: MarketState, catalog: InstrumentCatalog) {
        var instruments: [Instrument] = []
        var names = Set<String>()
        for entry in p.instruments {
            let instrument = try Instrument(proto: entry)
            guard names.insert(instrument.name).inserted else {
                throw .invalidInput(field: "instruments[\(instrument.name)]", reason: "defined twice")
            }
            instruments.append(instrument)
        }
        var markets = MarketState()
        for entry in p.markets {
            let market = try UnderlyingMarket(proto: entry)
            guard markets[market.underlying] == nil else {
                throw .invalidInput(field: "markets[\(market.underlying)]", reason: "defined twice")
            }
            markets[market.underlying] = market
        }
        return (markets, InstrumentCatalog(instruments))
    }
}
