/// How the liquidation planner trades off speed, cost and size (all rates are fractions).
public struct LiquidationPolicy: Sendable, Hashable {
    /// Restore equity to MM × (1 + buffer).
    public var targetBuffer: Double
    /// Accounts with equity below this amount (valuation units) are closed out fully.
    public var closeOutEquity: Double
    /// Largest chunk as a fraction of the displayed depth on the closing side.
    public var depthFraction: Double
    /// Liquidation penalty as a fraction of the closed notional (a cost to the account).
    public var penaltyRate: Double
    /// Price impact: extra fraction of the mid per unit of (size / displayed depth).
    public var impactCoefficient: Double

    public init(targetBuffer: Double = 0.15, closeOutEquity: Double = 10, depthFraction: Double = 0.5,
                penaltyRate: Double = 0.005, impactCoefficient: Double = 0.02) {
        self.targetBuffer = targetBuffer
        self.closeOutEquity = closeOutEquity
        self.depthFraction = depthFraction
        self.penaltyRate = penaltyRate
        self.impactCoefficient = impactCoefficient
    }
}

/// One close-out order. `quantity` is positive contracts; `side` buys back shorts, sells longs.
public struct LiquidationLegPlan: Sendable, Hashable {
    public enum Side: String, Sendable, Hashable {
        case buy, sell
    }

    public var instrument: String
    public var side: Side
    public var quantity: Double
    /// Worst acceptable price (quote units): mid ∓ (half spread + impact).
    public var limitPrice: Double
    /// Expected execution cost (valuation units): spread, impact and penalty.
    public var expectedCost: Double
}

/// The planner's answer for one account.
public struct LiquidationPlan: Sendable, Hashable {
    public enum Reason: String, Sendable, Hashable {
        case maintenanceBreach = "maintenance_breach"
        case bankrupt
    }

    public var reason: Reason
    public var legs: [LiquidationLegPlan]
    public var equityBefore: Double
    public var maintenanceBefore: Double
    public var initialBefore: Double
    /// Expected equity and MM once the legs are filled at their expected cost.
    public var expectedEquityAfter: Double
    public var expectedMaintenanceAfter: Double
    /// Insurance-fund deficit estimated when even closing everything leaves negative equity.
    public var estimatedDeficit: Double
    /// Whether the legs restore the target (false when liquidity or budget limits cut the plan).
    public var meetsTarget: Bool
    /// Severity: shortfall relative to MM, `(MM − equity) / MM`.
    public var severity: Double
    /// What binds before the plan, e.g. `BTC: spot -16% vol up` (the unit with the largest loss).
    public var bindingScenario: String
}

/// Plans reduce-only close-outs for a liquidatable account: greedily closes the chunk with the
/// best benefit per cost — benefit is the maintenance requirement released net of the cost paid,
/// cost is half spread + size-dependent impact + penalty — until equity ≥ MM × (1 + buffer).
/// The last leg is sized exactly (bisection) and rounded up to the lot size. Deterministic.
public struct LiquidationPlanner: Sendable {
    public let calculator: MarginCalculator
    public let policy: LiquidationPolicy

    public init(calculator: MarginCalculator, policy: LiquidationPolicy) {
        self.calculator = calculator
        self.policy = policy
    }

    /// Execution terms of one instrument: mid and half spread in valuation units per contract,
    /// displayed depth on each side (contracts; nil = unknown, no cap and no impact).
    struct Market {
        var mid: Double
        var halfSpread: Double
        var bidDepth: Double?
        var askDepth: Double?
        var quoteToValuation: Double
        var lotSize: Double
    }

    /// Plans for `account`; `caps` limits the quantity per instrument (anti-cascade budget).
    public func plan(account: Account, catalog: InstrumentCatalog, books: [String: RiskBook], markets: MarketState,
                     caps: [String: Double] = [:]) throws(MarginError) -> LiquidationPlan? {
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
                let cap = caps[position.instrument].map { max(0, $0 - used) } ?? .infinity
                let depth = position.quantity > 0 ? term.bidDepth : term.askDepth
                var chunk = min(abs(position.quantity), cap, depth.map { policy.depthFraction * $0 } ?? .infinity)
                chunk = floorToLot(chunk, lot: term.lotSize, remaining: abs(position.quantity))
                guard chunk > 0 else { continue }
                var reduced = current
                reduce(&reduced, index: index, by: chunk)
                let after = try evaluate(reduced)
                let cost = executionCost(chunk, term: term, depth: depth, accumulated: used)
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
            let depth = position.quantity > 0 ? term.bidDepth : term.askDepth
            let used = legs[position.instrument]?.quantity ?? 0
            if !closeAll, met(choice.after, cost: costPaid + choice.cost) {
                // Size the last leg exactly: the smallest quantity that meets the target.
                var low = 0.0, high = choice.quantity
                for _ in 0..<80 {
                    let mid = 0.5 * (low + high)
                    var trial = current
                    reduce(&trial, index: choice.index, by: mid)
                    let after = try evaluate(trial)
                    if met(after, cost: costPaid + executionCost(mid, term: term, depth: depth, accumulated: used)) { high = mid } else { low = mid }
                }
                let quantity = min(choice.quantity, ceilToLot(high, lot: term.lotSize))
                var trial = current
                reduce(&trial, index: choice.index, by: quantity)
                choice = (choice.index, quantity, choice.score, try evaluate(trial), executionCost(quantity, term: term, depth: depth, accumulated: used))
            }
            reduce(&current, index: choice.index, by: choice.quantity)
            if abs(current.positions[choice.index].quantity) < 1e-12 { current.positions[choice.index].quantity = 0 }
            costPaid += choice.cost
            summary = choice.after
            let side: LiquidationLegPlan.Side = position.quantity > 0 ? .sell : .buy
            let total = used + choice.quantity
            let impact = depth.map { policy.impactCoefficient * term.mid * total / max($0, 1e-12) } ?? 0
            let limitValuation = side == .sell ? term.mid - term.halfSpread - impact : term.mid + term.halfSpread + impact
            if legs[position.instrument] == nil { order.append(position.instrument) }
            legs[position.instrument] = LiquidationLegPlan(
                instrument: position.instrument, side: side, quantity: total,
                limitPrice: max(0, limitValuation / term.quoteToValuation),
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

    /// Cost of closing `quantity` more contracts after `accumulated` already planned (impact grows
    /// with the total size relative to depth): half spread + impact + penalty, valuation units.
    func executionCost(_ quantity: Double, term: Market, depth: Double?, accumulated: Double) -> Double {
        let spread = quantity * term.halfSpread
        let impact: Double
        if let depth, depth > 0 {
            let total = accumulated + quantity
            impact = policy.impactCoefficient * term.mid * (total * total - accumulated * accumulated) / (2 * depth)
        } else {
            impact = 0
        }
        return spread + impact + policy.penaltyRate * quantity * term.mid
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

    /// Mid, half spread and depth per position, in valuation units per contract.
    func executionTerms(_ account: Account, catalog: InstrumentCatalog, books: [String: RiskBook],
                        markets: MarketState) throws(MarginError) -> [String: Market] {
        var result: [String: Market] = [:]
        let valuation = calculator.valuationPrice(in: markets)
        for position in account.positions where position.quantity != 0 {
            guard let instrument = catalog[position.instrument] else { throw .unknownInstrument(position.instrument) }
            guard let market = markets[instrument.underlying] else { throw .missingMarket(underlying: instrument.underlying) }
            // Model value of one contract in valuation units, and quote units → valuation units.
            let midValue: Double
            let quoteToValuation: Double
            switch instrument.kind {
            case .option:
                guard let book = books[instrument.underlying], let slot = book.slot(of: instrument.name) else {
                    throw .missingMarket(underlying: instrument.underlying)
                }
                midValue = abs(book.currentValue(slot: slot))
                quoteToValuation = instrument.settlement == .inverse ? market.indexPrice / valuation * instrument.contractSize : instrument.contractSize
            case .perpetual, .future:
                let mark: Double
                if case .future(let expiry) = instrument.kind {
                    mark = try VolatilitySurface(market: market).forward(expiryMs: expiry, nowMs: market.timestampMs)
                } else {
                    mark = market.perpetualMark ?? market.indexPrice
                }
                if instrument.settlement == .inverse {
                    midValue = instrument.contractSize / valuation // USD face
                    quoteToValuation = midValue / mark
                } else {
                    midValue = mark * instrument.contractSize
                    quoteToValuation = instrument.contractSize
                }
            case .spot:
                continue
            }
            var halfSpread = 0.0
            var bidDepth: Double?, askDepth: Double?
            if let top = market.books[instrument.name] {
                if top.bidSize > 0, top.askSize > 0 { halfSpread = 0.5 * (top.askPrice - top.bidPrice) * quoteToValuation }
                bidDepth = top.bidSize
                askDepth = top.askSize
            }
            result[instrument.name] = Market(mid: midValue, halfSpread: halfSpread, bidDepth: bidDepth, askDepth: askDepth,
                                             quoteToValuation: quoteToValuation, lotSize: instrument.lotSize)
        }
        return result
    }
}
