import MarginCore
import MarginDemo
import MarginEngineCore

extension CascadeRun {
    /// Liquidations a 1 % fall of `markets` would trigger ÷ the delta-one depth displayed within 1 %:
    /// the accounts healthy now and liquidatable after the fall, each planned by this policy's
    /// planner without a budget, their legs counted in delta notional; the depth is every future's
    /// and perpetual's bid depth within 1 % of its mid, in notional.
    func cascadeRatio(markets: MarketState) throws -> Double {
        guard let market = markets[CascadeWorld.underlying] else { return 0 }
        let book = try world.riskBook(calculator, markets: markets, reusing: riskBook)
        var fallen = market
        let move = 0.99
        fallen.indexPrice *= move
        fallen.perpetualMark = fallen.perpetualMark.map { $0 * move }
        for index in fallen.expiries.indices { fallen.expiries[index].forward *= move }
        var fallenMarkets = markets
        fallenMarkets[CascadeWorld.underlying] = fallen
        let fallenBook = try world.riskBook(calculator, markets: fallenMarkets, reusing: book)
        let planner = LiquidationPlanner(calculator: calculator, policy: LiquidationCoordinator(settings: settings).policy)
        let valuation = calculator.valuationPrice(in: markets)
        var triggered = 0.0
        for account in ledger.accounts where !account.positions.isEmpty {
            let exposure = try AccountExposure(account: account, catalog: world.catalog, books: [CascadeWorld.underlying: book],
                                               parameters: calculator.parameters)
            guard !(try calculator.summary(exposure, books: [CascadeWorld.underlying: book], markets: markets).health.isInLiquidation),
                  try calculator.summary(exposure, books: [CascadeWorld.underlying: fallenBook], markets: fallenMarkets).health.isInLiquidation,
                  let plan = try planner.plan(account: account, catalog: world.catalog, books: [CascadeWorld.underlying: fallenBook],
                                              markets: fallenMarkets) else { continue }
            for leg in plan.legs {
                guard let instrument = world.catalog[leg.instrument] else { continue }
                let terms = try world.terms(instrument, on: fallen, book: fallenBook, valuationPrice: valuation)
                triggered += leg.quantity * terms.deltaNotional
            }
        }
        var depth = 0.0
        for name in market.orderBooks.keys.sorted() {
            guard let instrument = world.catalog[name], instrument.kind.isDeltaOne else { continue }
            let terms = try world.terms(instrument, on: market, book: book, valuationPrice: valuation)
            depth += terms.depth(.bid, band: 0.01) * terms.notional
        }
        return depth > 0 ? triggered / depth : 0
    }

    /// The run's measures, after a last margin of every account on the market the run left.
    /// Accounts not settled whose equity is negative at the end (still holding positions) count as
    /// bankrupt, their deficit as bad debt.
    mutating func finish() throws -> CascadePolicyResult {
        let end = try world.marketState(scenario: scenario, seconds: scenario.durationSeconds, depletion: depletion)
        let book = try world.riskBook(calculator, markets: end.markets, reusing: riskBook)
        try remargin(book: book, markets: end.markets, every: true)
        var openDeficits = 0.0
        for index in ledger.accounts.indices where !settled.contains(index) && summaries[index].grossEquity < 0 {
            openDeficits += -summaries[index].grossEquity
            tally.bankrupt.insert(index)
        }
        let result = CascadePolicyResult(
            waves: tally.waves, endogenousLiquidations: tally.endogenous.intersection(tally.liquidated).count, liquidatedNotional: tally.liquidatedNotional, endogenousImpactPercent: 100 * tally.maxDisplacement,
            cascadeRatio: max(tally.ratioOpening, tally.ratioStressed), cascadeRatioOpening: tally.ratioOpening,
            cascadeRatioStressed: tally.ratioStressed, bankruptAccounts: tally.bankrupt.count, badDebt: ledger.deficits + openDeficits,
            insuranceFundUsed: ledger.fundUsed, insuranceFundIncome: ledger.fundIncome, adlNotional: ledger.adlNotional, uncoveredDeficit: ledger.uncovered,
            adlAccounts: tally.deleveraged.count, liquidatedAccounts: tally.liquidated.count, instructions: tally.instructions,
            fills: tally.fills, comparedWith: policy.comparedWith.rawValue, liquidatedHereSurvivedThere: 0, survivedHereLiquidatedThere: 0,
            maxConservationError: tally.maxConservationError, steps: tally.steps)
        try result.requireFinite()
        return result
    }
}

extension CascadePolicyResult {
    /// No measure is NaN or infinite.
    func requireFinite() throws {
        let numbers = [liquidatedNotional, endogenousImpactPercent, cascadeRatio, cascadeRatioOpening, cascadeRatioStressed, badDebt,
                       insuranceFundUsed, insuranceFundIncome, adlNotional, uncoveredDeficit, maxConservationError]
            + steps.flatMap { [$0.exogenousIndex, $0.realisedIndex, $0.depthMultiplier, $0.liquidatedNotional] }
        if numbers.contains(where: { !$0.isFinite }) { throw CascadeError("a cascade measure is not finite") }
    }
}
