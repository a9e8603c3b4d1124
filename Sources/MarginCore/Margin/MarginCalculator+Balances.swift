/// Balances: value, haircuts and confidence charges of the account's assets.
extension MarginCalculator {
    // MARK: - Balances

    struct BalanceValuation {
        var grossValue = 0.0
        var maintenanceHaircut = 0.0
        var initialHaircut = 0.0
        var confidenceCharge = 0.0
        var confidenceDetail = ""
        var components: [EquityComponent] = []
    }

    /// USD price of a balance asset: its own market, else its underlying's.
    func assetPrice(_ asset: String, exposure: AccountExposure, markets: MarketState) throws(MarginError) -> (price: Double, confidence: Double) {
        if let own = markets[asset] { return (own.indexPrice, own.indexConfidence) }
        let underlying = exposure.instruments[asset]?.underlying ?? asset
        guard let market = markets[underlying] else { throw .missingMarket(underlying: asset) }
        return (market.indexPrice, market.indexConfidence)
    }

    func valueBalances(_ exposure: AccountExposure, markets: MarketState, detailed: Bool) throws(MarginError) -> BalanceValuation {
        var result = BalanceValuation()
        // The valuation asset's USD price, looked up once and only when a balance needs it.
        var knownValuation: Double?
        func valuation() -> Double {
            if let knownValuation { return knownValuation }
            let price = valuationPrice(in: markets)
            knownValuation = price
            return price
        }
        var charged: [String] = []
        for (asset, amount) in exposure.balances {
            if asset == parameters.valuationAsset {
                result.grossValue += amount
                if detailed {
                    result.components.append(EquityComponent(kind: .balance, name: asset, quantity: amount, price: valuation(),
                                                             value: amount, maintenanceHaircut: 0, initialHaircut: 0))
                }
                continue
            }
            let (price, confidence) = try assetPrice(asset, exposure: exposure, markets: markets)
            let valuation = valuation()
            let value = amount * price / valuation
            let haircuts = parameters.collateralParameters(for: asset)
            let positive = max(value, 0)
            let maintenanceCut = positive * haircuts.maintenanceHaircut
            let initialCut = positive * haircuts.initialHaircut
            result.grossValue += value
            result.maintenanceHaircut += maintenanceCut
            result.initialHaircut += initialCut
            if let rule = parameters.confidenceContingency, positive > 0 {
                let charge = rule.charge(confidence: confidence, notional: positive)
                if charge > 0 {
                    result.confidenceCharge += charge
                    if detailed { charged.append("\(asset) \(formatAmount(positive)) at confidence \(formatAmount(confidence))") }
                }
            }
            if detailed {
                result.components.append(EquityComponent(kind: .balance, name: asset, quantity: amount, price: price, value: value,
                                                         maintenanceHaircut: maintenanceCut, initialHaircut: initialCut))
            }
        }
        if detailed {
            result.components.sort { $0.name < $1.name }
            result.confidenceDetail = charged.sorted().joined(separator: "; ")
        }
        return result
    }
}
