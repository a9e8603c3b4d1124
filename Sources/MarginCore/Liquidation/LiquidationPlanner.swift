/// Plans close-outs for a liquidatable account until equity ≥ MM × (1 + buffer).
///
/// Each round it takes the step with the best benefit per cost — benefit is the maintenance
/// requirement released net of the cost paid, cost is the book walk and impact of
/// ``LiquidityCostModel`` (the increment of the close-out cost of the instrument's whole planned
/// quantity) + penalty. A step closes a chunk of one position, or of a *structure*: every position
/// of one underlying (or of the whole account) in proportion, so that offsetting legs (spreads,
/// boxes, butterflies, calendars) are unwound together when closing one leg alone would raise MM.
/// When no reduce-only step releases margin and the target is still missed, the plan falls back to
/// a full close-out (``LiquidationPlan/fullCloseOut``); accounts with equity below
/// `closeOutEquity` (or negative) are closed out from the start.
///
/// Chunks are capped by `depthFraction` of the depth within `priceBand` of the reference price
/// (`noBookChunkFraction` of the position without a book), by the anti-cascade caps per instrument
/// and per underlying, and rounded to lots. The last step is sized exactly (bisection) and rounded
/// up to the lot size. Deterministic.
public struct LiquidationPlanner: Sendable {
    public let calculator: MarginCalculator
    public let policy: LiquidationPolicy
    /// Whether the sizing bisection stops once no lot boundary is left between its bounds (the
    /// same legs as all 40 halvings; see `PlanningState.smallestMeeting`). Tests turn it off to
    /// compare with the exhaustive bisection.
    var stopsBisectionAtLots = true

    public init(calculator: MarginCalculator, policy: LiquidationPolicy) {
        self.calculator = calculator
        self.policy = policy
    }

    /// Execution terms of one instrument: its contract terms and book, the cost model that prices
    /// it, and its lot size.
    struct Market {
        var liquidity: InstrumentLiquidity
        var model: LiquidityCostModel
        var lotSize: Double

        var value: Double { liquidity.value }
    }

    /// Plans for `account`. Anti-cascade budget: `caps` limits the quantity per instrument
    /// (contracts), `underlyingCaps` the delta notional per underlying (valuation units,
    /// ``InstrumentLiquidity/deltaNotional`` per contract).
    public func plan(account: Account, catalog: InstrumentCatalog, books: [String: RiskBook], markets: MarketState,
                     caps: [String: Double] = [:], underlyingCaps: [String: Double] = [:]) throws(MarginError) -> LiquidationPlan? {
        let exposure = try AccountExposure(account: account, catalog: catalog, books: books, parameters: calculator.parameters)
        let start = try calculator.summary(exposure, books: books, markets: markets)
        guard start.equity < start.maintenanceRequirement || start.equity < policy.closeOutEquity && !account.positions.isEmpty else {
            return nil
        }
        let facts = try calculator.closeOutFacts(exposure, books: books, markets: markets)
        var state = try PlanningState(planner: self, account: account, start: start, valuePerContract: facts.valuePerContract,
                                      terms: executionTerms(account, catalog: catalog, books: books, markets: markets),
                                      catalog: catalog, books: books, markets: markets, caps: caps, underlyingCaps: underlyingCaps)
        var closeOut = start.equity < 0 || start.equity < policy.closeOutEquity
        var fellBack = false
        var rounds = 0
        while !(closeOut ? state.allClosed : state.meetsTarget), rounds < 10_000 {
            rounds += 1
            guard var best = try state.bestStep(closeOut: closeOut) else {
                if closeOut { break }
                // Nothing reduce-only releases margin: close everything out instead.
                closeOut = true
                fellBack = true
                continue
            }
            if !closeOut, state.meets(best.after, cost: state.costPaid + best.cost) {
                best = try state.smallestMeeting(best)
            }
            state.apply(best)
        }
        if !closeOut { try state.dropUnneededLegs() }
        let equityAfter = state.summary.equity - state.costPaid
        let allClosed = state.allClosed
        let bankrupt = start.equity < 0 || (allClosed && equityAfter < 0)
        return LiquidationPlan(
            reason: bankrupt ? .bankrupt : .maintenanceBreach, legs: state.order.map { state.legs[$0]! },
            equityBefore: start.equity, maintenanceBefore: start.maintenanceRequirement, initialBefore: start.initialRequirement,
            expectedEquityAfter: equityAfter, expectedMaintenanceAfter: state.summary.maintenanceRequirement,
            estimatedDeficit: bankrupt ? max(0, -equityAfter) : 0, meetsTarget: state.meetsTarget || (allClosed && !bankrupt),
            severity: start.maintenanceRequirement > 0 ? (start.maintenanceRequirement - start.equity) / start.maintenanceRequirement : 1,
            bindingScenario: facts.bindingScenario,
            fullCloseOut: closeOut && !state.order.isEmpty, fellBackToCloseOut: fellBack)
    }

    /// Cost of closing `quantity` more contracts after `accumulated` already planned, valuation
    /// units: the increment of the close-out cost of the whole planned quantity (so a leg inside the
    /// displayed depth costs exactly its book walk) + the penalty on the closed value.
    func executionCost(_ quantity: Double, term: Market, side: BookSide, accumulated: Double) -> Double {
        let after = term.model.closeCost(accumulated + quantity, side: side, terms: term.liquidity).total
        let before = accumulated > 0 ? term.model.closeCost(accumulated, side: side, terms: term.liquidity).total : 0
        return after - before + policy.penaltyRate * quantity * term.value
    }

    /// Largest chunk of one instrument: `depthFraction` of the depth within the price band on the
    /// closing side, or `noBookChunkFraction` of the original position (at least a lot) without a book.
    func chunkCap(_ term: Market, side: BookSide, original: Double) -> Double {
        let depth = term.liquidity.depth(side, band: policy.priceBand)
        if depth > 0 { return policy.depthFraction * depth }
        return max(policy.noBookChunkFraction * original, term.lotSize)
    }

    func floorToLot(_ quantity: Double, lot: Double, remaining: Double) -> Double {
        if quantity >= remaining - 1e-12 { return remaining }
        guard lot > 0 else { return quantity }
        return (quantity / lot + 1e-9).rounded(.down) * lot
    }

    func ceilToLot(_ quantity: Double, lot: Double) -> Double {
        guard lot > 0 else { return quantity }
        return (quantity / lot - 1e-9).rounded(.up) * lot
    }

    /// Terms of every position's instrument (spot assets are balances and never closed here).
    func executionTerms(_ account: Account, catalog: InstrumentCatalog, books: [String: RiskBook],
                        markets: MarketState) throws(MarginError) -> [String: Market] {
        var result: [String: Market] = [:]
        let valuation = calculator.valuationPrice(in: markets)
        for position in account.positions where position.quantity != 0 {
            guard let instrument = catalog[position.instrument] else { throw .unknownInstrument(position.instrument) }
            guard instrument.kind != .spot else { continue }
            guard let market = markets[instrument.underlying] else { throw .missingMarket(underlying: instrument.underlying) }
            let model = calculator.parameters.riskUnit(for: instrument.underlying)?.liquidityCost ?? policy.costModel
            let book = books[instrument.underlying]
            let liquidity = try InstrumentLiquidity(instrument: instrument, market: market, riskBook: book, valuationPrice: valuation,
                                                    nowMs: book?.asOfMs ?? market.timestampMs, fallbackVolatility: model.fallbackVolatility)
            result[instrument.name] = Market(liquidity: liquidity, model: model, lotSize: instrument.lotSize)
        }
        return result
    }
}
