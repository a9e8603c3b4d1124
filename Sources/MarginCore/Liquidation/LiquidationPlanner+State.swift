extension LiquidationPlanner {
    /// One planning step: reduce the positions at these indices by these quantities (contracts,
    /// positive), with the account's summary after it, its execution cost (valuation units) and its
    /// score (MM released net of cost, per unit of cost).
    struct Step {
        var legs: [(index: Int, quantity: Double)]
        var after: MarginSummary
        var cost: Double
        var score: Double
    }

    /// The account as the plan leaves it so far, the legs planned, and the budget they use.
    struct PlanningState {
        let planner: LiquidationPlanner
        let original: Account
        private(set) var current: Account
        let terms: [String: Market]
        let catalog: InstrumentCatalog
        let books: [String: RiskBook]
        let markets: MarketState
        let caps: [String: Double]
        let underlyingCaps: [String: Double]
        /// Mark value of one contract: closing at the mark moves it into cash (equity unchanged but for costs).
        let valuePerContract: [String: Double]
        let originalSize: [String: Double]
        private(set) var legs: [String: LiquidationLegPlan] = [:]
        private(set) var order: [String] = []
        private(set) var costPaid = 0.0
        private(set) var summary: MarginSummary
        private var deltaUsed: [String: Double] = [:]

        init(planner: LiquidationPlanner, account: Account, start: MarginSummary, valuePerContract: [String: Double],
             terms: [String: Market], catalog: InstrumentCatalog, books: [String: RiskBook], markets: MarketState,
             caps: [String: Double], underlyingCaps: [String: Double]) throws(MarginError) {
            self.planner = planner
            original = account
            current = account
            self.terms = terms
            self.catalog = catalog
            self.books = books
            self.markets = markets
            self.caps = caps
            self.underlyingCaps = underlyingCaps
            summary = start
            self.valuePerContract = valuePerContract
            var sizes: [String: Double] = [:]
            for position in account.positions { sizes[position.instrument] = abs(position.quantity) }
            originalSize = sizes
        }

        /// Every closable position (one with execution terms) is closed.
        var allClosed: Bool { current.positions.allSatisfy { $0.quantity == 0 || terms[$0.instrument] == nil } }
        var meetsTarget: Bool { meets(summary, cost: costPaid) }

        func meets(_ s: MarginSummary, cost: Double) -> Bool {
            let target = s.maintenanceRequirement * (1 + planner.policy.targetBuffer)
            return s.equity - cost >= target - 1e-12 * max(1, target)
        }

        func evaluate(_ account: Account) throws(MarginError) -> MarginSummary {
            let exposure = try AccountExposure(account: account, catalog: catalog, books: books, parameters: planner.calculator.parameters)
            return try planner.calculator.summary(exposure, books: books, markets: markets)
        }

        /// Closes `quantity` contracts at the mark: their value (unsettled funding included) moves into
        /// cash, and the position keeps only the rest's share of its funding.
        func reduce(_ account: inout Account, index: Int, by quantity: Double) {
            let position = account.positions[index]
            let delta = quantity * (position.quantity < 0 ? -1 : 1)
            account.positions[index].quantity -= delta
            account.positions[index].unsettledFunding *= position.quantity != 0 ? account.positions[index].quantity / position.quantity : 0
            account.balances[planner.calculator.parameters.valuationAsset, default: 0] += delta * (valuePerContract[position.instrument] ?? 0)
        }

        /// Cost of a step from the current state: each leg's increment of its instrument's close-out cost.
        func cost(of legs: [(index: Int, quantity: Double)]) -> Double {
            legs.reduce(0) { total, leg in
                let position = current.positions[leg.index]
                return total + planner.executionCost(leg.quantity, term: terms[position.instrument]!, side: .closing(quantity: position.quantity),
                                                     accumulated: self.legs[position.instrument]?.quantity ?? 0)
            }
        }

        /// Largest chunk of one position allowed now (contracts, before lot rounding): the
        /// position, the instrument's remaining cap and the depth-based chunk cap.
        func allowance(_ index: Int) -> Double {
            let position = current.positions[index]
            let term = terms[position.instrument]!
            let used = legs[position.instrument]?.quantity ?? 0
            return min(abs(position.quantity), caps[position.instrument].map { max(0, $0 - used) } ?? .infinity,
                       planner.chunkCap(term, side: .closing(quantity: position.quantity), original: originalSize[position.instrument] ?? 0))
        }

        /// Delta notional still allowed on an underlying (nil: uncapped).
        func remainingNotional(_ underlying: String) -> Double? {
            underlyingCaps[underlying].map { max(0, $0 - deltaUsed[underlying, default: 0]) }
        }

        /// The best admissible step (nil when none): while reducing only, a step must release more
        /// MM than it costs and must not lower the account's equity ÷ MM (``keepsRatio(_:cost:)``);
        /// in a close-out any step that closes something is admissible.
        func bestStep(closeOut: Bool) throws(MarginError) -> Step? {
            let open = current.positions.indices.filter { current.positions[$0].quantity != 0 && terms[current.positions[$0].instrument] != nil }
            var candidates: [[(index: Int, quantity: Double)]] = open.map { proportional([$0]) }
            let byUnderlying = Dictionary(grouping: open) { terms[current.positions[$0].instrument]!.liquidity.instrument.underlying }
            for underlying in byUnderlying.keys.sorted() where byUnderlying[underlying]!.count > 1 {
                candidates.append(proportional(byUnderlying[underlying]!))
            }
            if byUnderlying.count > 1 { candidates.append(proportional(open)) }
            var best: Step?
            for legs in candidates where !legs.isEmpty {
                var trial = current
                for leg in legs { reduce(&trial, index: leg.index, by: leg.quantity) }
                let after = try evaluate(trial)
                let cost = cost(of: legs)
                let benefit = summary.maintenanceRequirement - after.maintenanceRequirement - cost
                guard closeOut || (benefit > 0 && keepsRatio(after, cost: cost)) else { continue }
                let score = benefit / max(cost, 1e-12)
                if best == nil || score > best!.score + 1e-12 { best = Step(legs: legs, after: after, cost: cost, score: score) }
            }
            return best
        }

        /// Whether a step leaving `after` at execution cost `cost` keeps equity ÷ MM at least where it
        /// is: `(E − c)/M' ≥ E/M`, with `E` the equity net of the costs paid so far. Closing a fraction
        /// of a position of notional `N` at MM rate `m` and cost rate `k` (fees and slippage) releases
        /// `m·f·N` and costs `k·f·N`, so the ratio rises only while `E/N > k`: below that every partial
        /// step lowers it, none is admissible, and the plan falls back to a full close-out.
        func keepsRatio(_ after: MarginSummary, cost: Double) -> Bool {
            let equityNow = summary.equity - costPaid
            let equityAfter = after.equity - costPaid - cost
            return equityAfter * summary.maintenanceRequirement >= equityNow * after.maintenanceRequirement
        }

        /// Closes the same fraction of each member position — the largest every cap allows (one
        /// member alone: its largest chunk) — rounded down to lots; members that round to nothing
        /// are left out.
        func proportional(_ members: [Int]) -> [(index: Int, quantity: Double)] {
            var fraction = 1.0
            var notional: [String: Double] = [:]
            for index in members {
                let size = abs(current.positions[index].quantity)
                fraction = min(fraction, allowance(index) / size)
                let term = terms[current.positions[index].instrument]!
                notional[term.liquidity.instrument.underlying, default: 0] += size * term.liquidity.deltaNotional
            }
            for (underlying, total) in notional where total > 0 {
                if let remaining = remainingNotional(underlying) { fraction = min(fraction, remaining / total) }
            }
            guard fraction > 0 else { return [] }
            return members.compactMap { index in
                let size = abs(current.positions[index].quantity)
                let chunk = planner.floorToLot(fraction * size, lot: terms[current.positions[index].instrument]!.lotSize, remaining: size)
                return chunk > 0 ? (index, chunk) : nil
            }
        }

        /// The smallest scaling of `step` that meets the target (bisection, at most 40 halvings),
        /// rounded up to lots. The bisection stops as soon as every leg's quantity at either bound
        /// rounds up to the same lot (``LiquidationPlanner/stopsBisectionAtLots``): the final upper
        /// bound lies between the two and rounding up is monotone, so the legs are those of all 40
        /// halvings, with a few evaluations instead of 40.
        func smallestMeeting(_ step: Step) throws(MarginError) -> Step {
            let lots = step.legs.map { terms[current.positions[$0.index].instrument]!.lotSize }
            var low = 0.0, high = 1.0
            for _ in 0..<40 {
                let mid = 0.5 * (low + high)
                let legs = step.legs.map { (index: $0.index, quantity: $0.quantity * mid) }
                var trial = current
                for leg in legs { reduce(&trial, index: leg.index, by: leg.quantity) }
                if meets(try evaluate(trial), cost: costPaid + cost(of: legs)) { high = mid } else { low = mid }
                if planner.stopsBisectionAtLots, zip(step.legs, lots).allSatisfy({ leg, lot in
                    lot > 0 && planner.ceilToLot(leg.quantity * low, lot: lot) == planner.ceilToLot(leg.quantity * high, lot: lot)
                }) { break }
            }
            let legs = zip(step.legs, lots).map { leg, lot in
                (index: leg.index, quantity: min(leg.quantity, planner.ceilToLot(leg.quantity * high, lot: lot)))
            }
            var trial = current
            for leg in legs { reduce(&trial, index: leg.index, by: leg.quantity) }
            return Step(legs: legs, after: try evaluate(trial), cost: cost(of: legs), score: step.score)
        }

        mutating func apply(_ step: Step) {
            for leg in step.legs {
                let position = current.positions[leg.index]
                let term = terms[position.instrument]!
                let side = BookSide.closing(quantity: position.quantity)
                let used = legs[position.instrument]?.quantity ?? 0
                let cost = planner.executionCost(leg.quantity, term: term, side: side, accumulated: used)
                reduce(&current, index: leg.index, by: leg.quantity)
                if abs(current.positions[leg.index].quantity) < 1e-12 { current.positions[leg.index].quantity = 0 }
                deltaUsed[term.liquidity.instrument.underlying, default: 0] += leg.quantity * term.liquidity.deltaNotional
                let total = used + leg.quantity
                let walk = term.model.closeCost(total, side: side, terms: term.liquidity)
                if legs[position.instrument] == nil { order.append(position.instrument) }
                legs[position.instrument] = LiquidationLegPlan(
                    instrument: position.instrument, side: side == .bid ? .sell : .buy, quantity: total,
                    limitPrice: walk.worstPrice(quoteToValuation: term.liquidity.quoteToValuation),
                    expectedCost: (legs[position.instrument]?.expectedCost ?? 0) + cost)
            }
            costPaid += step.cost
            summary = step.after
        }

        /// Drops legs the others make unnecessary (the greedy order can leave one behind).
        mutating func dropUnneededLegs() throws(MarginError) {
            guard meetsTarget, order.count > 1 else { return }
            var index = 0
            while index < order.count, order.count > 1 {
                let dropped = order[index]
                var trial = original
                var cost = 0.0
                for name in order where name != dropped {
                    let leg = legs[name]!
                    reduce(&trial, index: trial.positions.firstIndex { $0.instrument == name }!, by: leg.quantity)
                    cost += leg.expectedCost
                }
                let after = try evaluate(trial)
                if meets(after, cost: cost) {
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
    }
}
