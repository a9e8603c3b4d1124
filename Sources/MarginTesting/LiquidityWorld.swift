import MarginCore

/// A synthetic BTC market with displayed ladders, volumes and open interest, and accounts on it,
/// for the liquidity and concentration tests (MarginCoreTests, MarginSchemaTests).
public enum LiquidityWorld {
    /// The synthetic BTC market with a five-level ladder around every option's model value and the
    /// perpetual, 24 h volumes and open interest; sizes multiplied by `depthScale`.
    public static func world(depthScale: Double = 1, openInterestScale: Double = 1)
        throws -> (parameters: RiskParameters, catalog: InstrumentCatalog, markets: MarketState) {
        let (bare, catalog) = SyntheticBook.market(expiries: 3, strikesPerExpiry: 6)
        let parameters = SyntheticBook.parameters()
        let plain = try MarginCalculator(parameters: parameters).riskBook(for: "BTC", catalog: catalog, markets: MarketState([bare]),
                                                                           asOfMs: bare.timestampMs)
        var market = bare
        func ladder(_ value: Double, spread: Double, size: Double, volume: Double, openInterest: Double) -> OrderBook {
            let bids = (0..<5).map { PriceLevel(price: value * (1 - spread * Double($0 + 1)), size: size * Double($0 + 1) * depthScale) }
            let asks = (0..<5).map { PriceLevel(price: value * (1 + spread * Double($0 + 1)), size: size * Double($0 + 1) * depthScale) }
            return OrderBook(bids: bids, asks: asks, volume24h: volume, openInterest: openInterest * openInterestScale)
        }
        for (slot, instrument) in plain.instruments.enumerated() where plain.currentValue(slot: slot) > 1 {
            market.orderBooks[instrument.name] = ladder(plain.currentValue(slot: slot), spread: 0.02, size: 2, volume: 15, openInterest: 80)
        }
        market.orderBooks["BTC-PERPETUAL"] = ladder(60_000, spread: 0.0002, size: 20, volume: 5_000, openInterest: 2_000)
        return (parameters, catalog, MarketState([market]))
    }

    public static func enabled(_ parameters: RiskParameters, shape: ConcentrationAddOnRule.Shape = .sizePremium(imfFactor: 0.05),
                        netting: Bool = false) -> RiskParameters {
        var p = parameters
        for key in p.riskUnits.keys {
            p.riskUnits[key]!.liquidityCost = .standard
            p.riskUnits[key]!.liquidityAddOn = LiquidityAddOnRule(maintenanceFraction: 0.5, netDeltaOneAcrossExpiries: netting)
            p.riskUnits[key]!.concentrationAddOn = ConcentrationAddOnRule(shape: shape)
        }
        return p
    }

    public static func margin(_ account: Account, _ parameters: RiskParameters, _ catalog: InstrumentCatalog, _ markets: MarketState) throws -> MarginResult {
        try MarginCalculator(parameters: parameters).margin(account: account, catalog: catalog, markets: markets, asOfMs: markets["BTC"]?.timestampMs ?? 1)
    }

    public static func charge(_ result: MarginResult, _ name: String) -> ContingencyCharge? {
        result.riskUnits.flatMap(\.contingencies).first { $0.name == name }
    }

    public static func accounts(_ catalog: InstrumentCatalog, count: Int = 30) -> [Account] {
        SyntheticBook.accounts(count: count, positions: 5, catalog: catalog, seed: 77).enumerated().map { index, account in
            var account = account
            account.positions.append(Position(instrument: "BTC-PERPETUAL", quantity: Double(index % 7 - 3) * 4, averageEntryPrice: 60_000))
            account.positions.removeAll { $0.quantity == 0 }
            return account
        }
    }
}
