/// Portfolio margin of accounts from risk books.
///
/// Per underlying (risk unit) the account's scenario PnL is assembled from the risk arrays:
/// options are summed per expiry (`Σ quantity × row`), each expiry's shocked value is statically
/// discounted by its sign when the rule is on, the current value subtracted, the result dampened and,
/// in skew scenarios, counted as a loss whichever its sign; futures, perpetuals and linked balances
/// add `notional × (shock − 1) × dampening`. The worst of the scenarios and the basis contingency
/// gives the unit's loss; `MM = mmFactor × loss + MM contingencies`, `IM = imFactor × loss + IM
/// contingencies`, summed over units. Equity is the value of balances (less haircuts) and positions.
public struct MarginCalculator: Sendable {
    public let parameters: RiskParameters
    /// Each unit's parameters with the joint scenario set's columns appended, precomputed once.
    let bookUnits: [String: RiskUnitParameters]

    public init(parameters: RiskParameters) {
        self.parameters = parameters
        var units: [String: RiskUnitParameters] = [:]
        for underlying in parameters.riskUnits.keys { units[underlying] = parameters.bookParameters(for: underlying) }
        self.bookUnits = units
    }

    /// USD price of the valuation asset in `markets` (1 when it has no market).
    public func valuationPrice(in markets: MarketState) -> Double {
        markets[parameters.valuationAsset]?.indexPrice ?? 1
    }

    /// Builds the risk book of `underlying` for the current market and these parameters.
    /// Pass the previous book of the underlying as `reusing` to keep its slot layout when the
    /// catalog has not changed (a market tick), and `parallelism` to build it on several threads
    /// (the same book bit for bit).
    public func riskBook(for underlying: String, catalog: InstrumentCatalog, markets: MarketState, asOfMs: Int64,
                         reusing previous: RiskBook? = nil, parallelism: Parallelism = .serial) throws(MarginError) -> RiskBook {
        guard let market = markets[underlying] else { throw .missingMarket(underlying: underlying) }
        guard let unit = bookUnits[underlying] else { throw .missingParameters(underlying: underlying) }
        return try RiskBook(
            market: market, instruments: catalog, parameters: unit, parameterSetId: parameters.id,
            parameterSetVersion: parameters.version, valuationPrice: valuationPrice(in: markets), asOfMs: asOfMs,
            valuationFollowsUnderlying: valuationFollows(underlying, catalog: catalog), reusing: previous,
            jointTail: parameters.historicalSimulation.map(JointTail.init), parallelism: parallelism
        )
    }

    /// Whether the valuation asset is `underlying` itself, or a spot asset on it: a coin-margined
    /// set, whose amounts are coins and whose scenarios move the valuation asset with the unit.
    public func valuationFollows(_ underlying: String, catalog: InstrumentCatalog) -> Bool {
        let asset = parameters.valuationAsset
        return asset == underlying || catalog[asset]?.underlying == underlying
    }

    /// One-shot margin of an account (what-if): builds the books it needs, then explains. A book in
    /// `held` is used instead when it is current: built for this parameter set and version, this
    /// catalog and the market snapshot in `markets` (a worker's books, as its held accounts margin).
    public func margin(account: Account, catalog: InstrumentCatalog, markets: MarketState, asOfMs: Int64,
                       reusing held: [String: RiskBook] = [:]) throws(MarginError) -> MarginResult {
        try parameters.validate()
        var books: [String: RiskBook] = [:]
        var underlyings = Set<String>()
        for name in account.positions.filter({ $0.quantity != 0 }).map(\.instrument) + account.openOrders.map(\.instrument) {
            guard let instrument = catalog[name] else { throw .unknownInstrument(name) }
            underlyings.insert(instrument.underlying)
        }
        for (asset, amount) in account.balances where amount != 0 && asset != parameters.valuationAsset {
            let underlying = catalog[asset]?.underlying ?? asset
            if parameters.collateralParameters(for: asset).riskLinked, parameters.riskUnit(for: underlying) != nil {
                underlyings.insert(underlying)
            }
        }
        for underlying in underlyings.sorted() {
            guard parameters.riskUnit(for: underlying) != nil else { throw .missingParameters(underlying: underlying) }
            if let book = held[underlying], book.parameterSetId == parameters.id, book.parameterSetVersion == parameters.version,
               book.catalogRevision == catalog.revision, book.market.timestampMs == markets[underlying]?.timestampMs {
                books[underlying] = book
            } else {
                books[underlying] = try riskBook(for: underlying, catalog: catalog, markets: markets, asOfMs: asOfMs)
            }
        }
        let exposure = try AccountExposure(account: account, catalog: catalog, books: books, parameters: parameters)
        let result = try explain(exposure, books: books, markets: markets)
        // The final guard: no result carries NaN or infinity (extreme inputs are refused instead).
        if let field = result.firstNonFiniteField { throw .numerical("\(field) is not finite for account \(account.id)") }
        return result
    }
}
