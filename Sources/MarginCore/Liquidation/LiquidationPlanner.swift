/// Plans reduce-only close-outs for a liquidatable account: greedily closes the chunk with the
/// best benefit per cost — benefit is the maintenance requirement released net of the cost paid,
/// cost is the book walk and impact of ``LiquidityCostModel`` (the increment of the close-out cost
/// of the instrument's whole planned quantity) + penalty — until equity ≥ MM × (1 + buffer).
/// Chunks are capped by `depthFraction` of the depth within `priceBand` of the reference price
/// (`noBookChunkFraction` of the position without a book), by the anti-cascade caps per instrument
/// and per underlying, and rounded to lots. The last leg is sized exactly (bisection) and rounded up
/// to the lot size. Deterministic.
public struct LiquidationPlanner: Sendable {
    public let calculator: MarginCalculator
    public let policy: LiquidationPolicy

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
        let terms = try executionTerms(account, catalog: catalog, books: books, markets: markets)
        // Closing at the mark moves a position's value into cash: equity is unchanged but for costs.
        let explained = try calculator.explain(exposure, books: books, markets: markets)
        var valuePerContract: [String: Double] = [:]
        for component in explained.equityComponents where component.kind == .position && component.quantity != 0 {
            valuePerContract[component.name] = component.value / component.quantity
        }
        let cash = calculator.parameters.valuationAsset
        func reduce(_ account: inout Account, index: Int, by quantity: Double) {
            let position = account.positions[index]
            let delta = quantity * sign(position.quantity)
            account.positions[index].quantity -= delta
            account.balances[cash, default: 0] += delta * (valuePerContract[position.instrument] ?? 0)
        }
        let closeAll = start.equity < 0 || start.equity < policy.closeOutEquity
        var current = account
        var legs: [String: LiquidationLegPlan] = [:]
        var order: [String] = []
        var costPaid = 0.0
        var summary = start
        var deltaUsed: [String: Double] = [:]
        var originalSize: [String: Double] = [:]
        for position in account.positions { originalSize[position.instrument] = abs(position.quantity) }

        func evaluate(_ account: Account) throws(MarginError) -> MarginSummary {
            let exposure = try AccountExposure(account: account, catalog: catalog, books: books, parameters: calculator.parameters)
            return try calculator.summary(exposure, books: books, markets: markets)
        }
        func target(_ s: MarginSummary) -> Double { s.maintenanceRequirement * (1 + policy.targetBuffer) }
        func met(_ s: MarginSummary, cost: Double) -> Bool { s.equity - cost >= target(s) - 1e-12 * max(1, target(s)) }

        var guardCount = 0
        while !(closeAll ? current.positions.allSatisfy { $0.quantity == 0 } : met(summary, cost: costPaid)) {
            guardCount += 1
            if guardCount > 10_000 { break }
            // Candidates: the largest allowed chunk of each open position.
            var best: (index: Int, quantity: Double, score: Double, after: MarginSummary, cost: Double)?
            for (index, position) in current.positions.enumerated() where position.quantity != 0 {
                guard let term = terms[position.instrument] else { continue }
                let used = legs[position.instrument]?.quantity ?? 0
                var chunk = min(abs(position.quantity), caps[position.instrument].map { max(0, $0 - used) } ?? .infinity)
                if let cap = underlyingCaps[term.liquidity.instrument.underlying], term.liquidity.deltaNotional > 0 {
                    chunk = min(chunk, max(0, cap - deltaUsed[term.liquidity.instrument.underlying, default: 0]) / term.liquidity.deltaNotional)
                }
                chunk = min(chunk, chunkCap(term, side: .closing(quantity: position.quantity), original: originalSize[position.instrument] ?? 0))
                chunk = floorToLot(chunk, lot: term.lotSize, remaining: abs(position.quantity))
                guard chunk > 0 else { continue }
                var reduced = current
                reduce(&reduced, index: index, by: chunk)
                let after = try evaluate(reduced)
                let cost = executionCost(chunk, term: term, side: .closing(quantity: position.quantity), accumulated: used)
                let released = summary.maintenanceRequirement - after.maintenanceRequirement
                let benefit = released - cost
                let score = benefit / max(cost, 1e-12)
                if closeAll || benefit > 0 {
                    if best == nil || score > best!.score + 1e-12 { best = (index, chunk, score, after, cost) }
                }
            }
            guard var choice = best else { break }
            let position = current.positions[choice.index]
            let term = terms[position.instrument]!
            let side = BookSide.closing(quantity: position.quantity)
            let used = legs[position.instrument]?.quantity ?? 0
            if !closeAll, met(choice.after, cost: costPaid + choice.cost) {
                // Size the last leg exactly: the smallest quantity that meets the target.
                var low = 0.0, high = choice.quantity
                for _ in 0..<80 {
                    let mid = 0.5 * (low + high)
                    var trial = current
                    reduce(&trial, index: choice.index, by: mid)
                    let after = try evaluate(trial)
                    if met(after, cost: costPaid + executionCost(mid, term: term, side: side, accumulated: used)) { high = mid } else { low = mid }
                }
                let quantity = min(choice.quantity, ceilToLot(high, lot: term.lotSize))
                var trial = current
                reduce(&trial, index: choice.index, by: quantity)
                choice = (choice.index, quantity, choice.score, try evaluate(trial), executionCost(quantity, term: term, side: side, accumulated: used))
            }
            reduce(&current, index: choice.index, by: choice.quantity)
            if abs(current.positions[choice.index].quantity) < 1e-12 { current.positions[choice.index].quantity = 0 }
            costPaid += choice.cost
            summary = choice.after
            deltaUsed[term.liquidity.instrument.underlying, default: 0] += choice.quantity * term.liquidity.deltaNotional
            let total = used + choice.quantity
            let walk = term.model.closeCost(total, side: side, terms: term.liquidity)
            if legs[position.instrument] == nil { order.append(position.instrument) }
            legs[position.instrument] = LiquidationLegPlan(
                instrument: position.instrument, side: side == .bid ? .sell : .buy, quantity: total,
                limitPrice: walk.worstPrice(quoteToValuation: term.liquidity.quoteToValuation),
                expectedCost: (legs[position.instrument]?.expectedCost ?? 0) + choice.cost)
        }
        // Drop legs the others make unnecessary (the greedy order can leave one behind).
        if !closeAll, met(summary, cost: costPaid), order.count > 1 {
            var index = 0
            while index < order.count, order.count > 1 {
                let dropped = order[index]
                var trial = account
                var cost = 0.0
                for name in order where name != dropped {
                    let leg = legs[name]!
                    let position = trial.positions.firstIndex { $0.instrument == name }!
                    reduce(&trial, index: position, by: leg.quantity)
                    cost += leg.expectedCost
                }
                let after = try evaluate(trial)
                if met(after, cost: cost) {
                    legs[dropped] = nil
                    order.remove(at: index)
                    current = trial
                    summary = after
                    costPaid = cost
                } else {
                    index += 1
                }
            }
        }
        let equityAfter = summary.equity - costPaid
        let allClosed = current.positions.allSatisfy { $0.quantity == 0 }
        let meets = met(summary, cost: costPaid)
        let bankrupt = start.equity < 0 || (allClosed && equityAfter < 0)
        return LiquidationPlan(
            reason: bankrupt ? .bankrupt : .maintenanceBreach, legs: order.map { legs[$0]! },
            equityBefore: start.equity, maintenanceBefore: start.maintenanceRequirement, initialBefore: start.initialRequirement,
            expectedEquityAfter: equityAfter, expectedMaintenanceAfter: summary.maintenanceRequirement,
            estimatedDeficit: bankrupt ? max(0, -equityAfter) : 0, meetsTarget: meets || (allClosed && !bankrupt),
            severity: start.maintenanceRequirement > 0 ? (start.maintenanceRequirement - start.equity) / start.maintenanceRequirement : 1,
            bindingScenario: explained.riskUnits.max { $0.worstLoss < $1.worstLoss }.map { "\($0.underlying): \($0.bindingLabel)" } ?? "")
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

    func sign(_ x: Double) -> Double { x < 0 ? -1 : 1 }

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
