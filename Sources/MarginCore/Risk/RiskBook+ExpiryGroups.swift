/// Building a risk book's expiry groups: forward, rate, discount, vol-shock multipliers and
/// confidence per expiry (listed, or interpolated for an unlisted one), and the options' deltas.
extension RiskBook {
    /// An option's Black-76 forward delta in underlying units per contract (discounted; the same
    /// for linear and inverse settlement: the USD value's sensitivity to the underlying).
    static func forwardDelta(terms: SlotTerms, volatility: Double, group: ExpiryGroup) -> Double {
        let valuation = Black76.valuation(Black76Inputs(
            forward: group.forward, strike: terms.strike, timeToExpiry: group.timeToExpiry, volatility: volatility,
            rate: group.rate, right: terms.sign > 0 ? .call : .put))
        return valuation.delta * terms.contractSize
    }

    static func expiryGroup(expiryMs: Int64, surface: VolatilitySurface, parameters: RiskUnitParameters,
                            asOfMs: Int64, slots: Range<Int>) throws(MarginError) -> ExpiryGroup {
        let market = surface.market
        let t = VolatilitySurface.yearFraction(from: asOfMs, to: expiryMs)
        let forward: Double, fixed: Double, rate: Double, confidence: Double
        if let listed = market.expiry(at: expiryMs) {
            forward = listed.forward
            fixed = listed.forwardFixedPortion
            rate = listed.rate
            confidence = min(listed.forwardConfidence, listed.rateConfidence, listed.volatilityConfidence)
        } else {
            guard !market.expiries.isEmpty else { throw .missingExpiry(underlying: market.underlying, expiryMs: expiryMs) }
            forward = try surface.forward(expiryMs: expiryMs, nowMs: asOfMs)
            fixed = 0
            let neighbours = Self.neighbours(of: expiryMs, in: market.expiries)
            rate = neighbours.rate
            confidence = neighbours.confidence
        }
        let flooredRate = max(rate, 0)
        let discount = CMath.exp(-flooredRate * t)
        let seconds = max(0, Double(expiryMs - asOfMs) / 1000)
        let shocks = parameters.volatilityShock.multipliers(secondsToExpiry: seconds)
        let staticFactors = parameters.staticDiscount?.factors(rate: flooredRate, timeToExpiry: t) ?? (1, 1)
        let basisFactor = parameters.basisContingency.map { $0.addFactor + $0.multFactor * t } ?? 0
        return ExpiryGroup(
            expiryMs: expiryMs, timeToExpiry: t, forward: forward, forwardFixedPortion: fixed, rate: flooredRate,
            discount: discount, volatilityUp: shocks.up, volatilityDown: shocks.down,
            staticDiscountPositive: staticFactors.0, staticDiscountNegative: staticFactors.1,
            basisFactor: basisFactor, confidence: confidence, slotRange: slots
        )
    }

    /// Rate and confidence for an unlisted expiry: the rate interpolated linearly in time, the
    /// lower confidence of the neighbouring listed expiries.
    static func neighbours(of expiryMs: Int64, in expiries: [ExpiryMarket]) -> (rate: Double, confidence: Double) {
        func confidence(_ e: ExpiryMarket) -> Double { min(e.forwardConfidence, e.rateConfidence, e.volatilityConfidence) }
        guard let upper = expiries.firstIndex(where: { $0.expiryMs > expiryMs }) else {
            let last = expiries[expiries.count - 1]
            return (last.rate, confidence(last))
        }
        if upper == 0 { return (expiries[0].rate, confidence(expiries[0])) }
        let lo = expiries[upper - 1], hi = expiries[upper]
        let weight = Double(expiryMs - lo.expiryMs) / Double(hi.expiryMs - lo.expiryMs)
        return (lo.rate + (hi.rate - lo.rate) * weight, min(confidence(lo), confidence(hi)))
    }
}

extension RiskBook {
    /// Recomputes every row into `rows` (`instruments.count × stride` doubles, the book's layout)
    /// with the risk-array kernel alone: the Black-76 revaluation of a market tick without the
    /// surface, the expiry groups or the tables around it. For benchmarks against the C baseline,
    /// which does the same work.
    public func fillRiskArrays(into rows: UnsafeMutableBufferPointer<Double>) {
        precondition(rows.count >= instruments.count * stride, "rows needs instruments × stride doubles")
        RiskArrayKernel.fill(rows: rows, stride: stride, terms: slotTerms, volatilities: markVolatilities, groups: expiries,
                             parameters: parameters, indexPrice: market.indexPrice, valuationPrice: valuationPrice,
                             valuationFollowsUnderlying: valuationFollowsUnderlying)
    }
}
