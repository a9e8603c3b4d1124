/// What the cost of closing one instrument depends on, in valuation units per contract: its value,
/// how its quote prices convert, how much its value moves in a day, its notional, and its book.
///
/// Conventions follow the rest of the engine: linear instruments are quoted and valued in the
/// valuation asset (a stablecoin), inverse ones in coins converted at the index
/// (`index / valuationPrice`); an inverse future or perpetual's contract size is its USD face.
///
/// | kind | `value` | `quoteToValuation` | `dailyVolatility` σ_V |
/// |---|---|---|---|
/// | option, linear | \|model value\| | size | \|Δ\|·F·σ_d·size |
/// | option, inverse | \|model value\| | size·S/valuation | \|Δ\|·σ_d·size·S/valuation |
/// | future/perpetual, linear | mark·size | size | value·σ_d |
/// | future/perpetual, inverse | face/valuation | value/mark | value·σ_d |
///
/// Δ is the Black-76 forward delta at the option's mark volatility, `σ_d = σ/√365` the daily
/// volatility: the option's mark volatility, for futures the smile's at-the-money volatility of
/// their expiry, for perpetuals that of the first listed expiry at least a day away (the cost
/// model's `fallbackVolatility` when the market lists none).
public struct InstrumentLiquidity: Sendable {
    public let instrument: Instrument
    /// Value of one contract (valuation units, ≥ 0).
    public let value: Double
    /// Valuation units per quote unit of price, for one contract.
    public let quoteToValuation: Double
    /// Daily standard deviation of one contract's value (valuation units): σ of the impact model.
    public let dailyVolatility: Double
    /// Underlying units per contract (inverse futures and perpetuals: face / mark).
    public let underlyingUnits: Double
    /// Underlying notional of one contract (valuation units).
    public let notional: Double
    /// |Δ| for options (Black-76 forward delta), 1 for futures and perpetuals.
    public let absoluteDelta: Double
    /// |Δ| × notional (valuation units).
    public let deltaNotional: Double
    /// The instrument's book and statistics, if the market has an entry for it.
    public let book: OrderBook?

    /// One contract's terms in `market` at `nowMs`. Options need their underlying's risk book
    /// (model value and mark volatility); futures and perpetuals do not.
    public init(instrument: Instrument, market: UnderlyingMarket, riskBook: RiskBook?, valuationPrice: Double, nowMs: Int64,
                fallbackVolatility: Double) throws(MarginError) {
        self.instrument = instrument
        self.book = market.orderBooks[instrument.name]
        let index = market.indexPrice
        let size = instrument.contractSize
        let dayScale = 1 / 365.0.squareRoot()
        switch instrument.kind {
        case .option(_, let strike, let right):
            guard let riskBook, let slot = riskBook.slot(of: instrument.name) else { throw .missingMarket(underlying: instrument.underlying) }
            let group = riskBook.expiryGroup(ofSlot: slot)
            let sigma = riskBook.markVolatilities[slot]
            let delta = Self.forwardDelta(forward: group.forward, strike: strike, timeToExpiry: group.timeToExpiry,
                                          volatility: sigma, discount: group.discount, right: right)
            value = abs(riskBook.currentValue(slot: slot))
            let coins = instrument.settlement == .inverse ? index / valuationPrice : 1
            quoteToValuation = size * coins
            let inverseFactor = instrument.settlement == .inverse ? 1 / group.forward : 1
            dailyVolatility = abs(delta) * group.forward * sigma * dayScale * size * coins * inverseFactor
            underlyingUnits = size
            notional = size * index * (instrument.settlement == .inverse ? 1 / valuationPrice : 1)
            absoluteDelta = abs(delta)
            deltaNotional = abs(delta) * notional
        case .perpetual, .future:
            let surface = VolatilitySurface(market: market)
            let mark: Double
            var sigma = fallbackVolatility
            if case .future(let expiryMs) = instrument.kind {
                mark = try surface.forward(expiryMs: expiryMs, nowMs: nowMs)
                if !market.expiries.isEmpty, let atm = try? surface.volatility(expiryMs: expiryMs, strike: mark, nowMs: nowMs), atm > 0 {
                    sigma = atm
                }
            } else {
                mark = market.perpetualMark ?? index
                let dayAhead = nowMs + 86_400_000
                if let expiry = market.expiries.first(where: { $0.expiryMs >= dayAhead }) ?? market.expiries.last {
                    let atm = surface.volatility(expiry: expiry, strike: expiry.forward, nowMs: nowMs)
                    if atm > 0 { sigma = atm }
                }
            }
            if instrument.settlement == .inverse {
                value = size / valuationPrice
                quoteToValuation = value / mark
                underlyingUnits = size / mark
                notional = value
            } else {
                value = mark * size
                quoteToValuation = size
                underlyingUnits = size
                notional = size * index
            }
            dailyVolatility = value * sigma * dayScale
            absoluteDelta = 1
            deltaNotional = notional
        case .spot:
            throw .invalidInput(field: "instrument \(instrument.name)", reason: "spot assets are balances, not positions")
        }
    }

    /// Black-76 forward delta `∂V/∂F` (discounted): `D·N(d1)` for calls, `D·(N(d1) − 1)` for puts;
    /// the intrinsic step at expiry or zero volatility.
    public static func forwardDelta(forward: Double, strike: Double, timeToExpiry: Double, volatility: Double, discount: Double,
                                    right: OptionRight) -> Double {
        let v = volatility * max(timeToExpiry, 0).squareRoot()
        let callProbability: Double
        if v > 0 {
            let d1 = (CMath.log(forward / strike) + 0.5 * v * v) / v
            callProbability = NormalDistribution.cdf(d1)
        } else {
            callProbability = forward > strike ? 1 : (forward == strike ? 0.5 : 0)
        }
        return discount * (right == .call ? callProbability : callProbability - 1)
    }

    /// The book's mid in valuation units when both sides are quoted, else the contract's value:
    /// the price that book-walk distances are measured from.
    public var referencePrice: Double {
        if let book, book.bidSize > 0, book.askSize > 0 { return 0.5 * (book.bidPrice + book.askPrice) * quoteToValuation }
        return value
    }

    /// Contracts displayed on the closing `side` within `band` (a fraction of the reference price)
    /// of the reference price, the best level always included; 0 without a book.
    public func depth(_ side: BookSide, band: Double) -> Double {
        guard let book, quoteToValuation > 0 else { return 0 }
        let reference = referencePrice / quoteToValuation
        return book.depth(side, within: band * reference, of: reference)
    }
}
