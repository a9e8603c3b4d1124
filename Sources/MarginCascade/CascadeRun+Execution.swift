import MarginCore
import MarginDemo
import MarginEngineCore

extension CascadeRun {
    /// The executor: fills `plan`'s legs against the displayed books in order (each walk takes the
    /// levels it fills, so later legs and accounts see a thinner book), up to each leg's limit price
    /// unless the policy fills at market; the rest of a leg lapses. The account pays the walk and
    /// impact (``LiquidityCostModel/closeCost(_:side:terms:)``) and the penalty, as far as its
    /// equity left after the walk covers it (a bankrupt account pays none: the fund would only pay
    /// it back); the makers take the position. Returns the delta notional filled.
    mutating func execute(_ plan: LiquidationPlan, account index: Int, markets: inout MarketState, baseBooks: [String: OrderBook],
                          book: RiskBook) throws -> Double {
        guard !plan.legs.isEmpty, let exposure = exposures[index], var market = markets[CascadeWorld.underlying] else { return 0 }
        let books = [CascadeWorld.underlying: book]
        let valuePerContract = try calculator.closeOutFacts(exposure, books: books, markets: markets).valuePerContract
        let model = world.costModel
        let penaltyRate = settings.penaltyRate
        let valuation = calculator.valuationPrice(in: markets)
        var filledNotional = 0.0
        // Closing at the mark leaves equity unchanged; the walks and penalties come out of it.
        var equityLeft = summaries[index].equity
        for leg in plan.legs {
            guard let instrument = world.catalog[leg.instrument],
                  let position = ledger.accounts[index].positions.first(where: { $0.instrument == leg.instrument }), position.quantity != 0 else {
                continue
            }
            let terms = try world.terms(instrument, on: market, book: book, valuationPrice: valuation)
            let side = BookSide.closing(quantity: position.quantity)
            let wanted = min(leg.quantity, abs(position.quantity))
            let quantity = policy.fillsAtMarket ? wanted
                : Self.fillable(wanted, within: leg.limitPrice, side: side, terms: terms, model: model, lot: instrument.lotSize)
            guard quantity > 0 else { continue }
            guard let value = valuePerContract[leg.instrument] else {
                throw CascadeError("account \(ledger.accounts[index].id): no mark value for \(leg.instrument)")
            }
            let walk = model.closeCost(quantity, side: side, terms: terms)
            equityLeft -= walk.total
            let penalty = min(penaltyRate * quantity * terms.value, max(0, equityLeft))
            equityLeft -= penalty
            let closed = position.quantity > 0 ? quantity : -quantity
            try ledger.close(account: index, instrument: leg.instrument, closed: closed, value: value, cost: walk.total, penalty: penalty)
            depletion.record(instrument: leg.instrument, side: side, displayed: min(quantity, walk.displayedDepth),
                             soldDelta: closed * Self.signedDelta(instrument, terms) * terms.notional)
            closedDelta[index] += closed * Self.signedDelta(instrument, terms) * terms.notional
            if let base = baseBooks[leg.instrument] {
                market.orderBooks[leg.instrument] = depletion.displayed(base, instrument: leg.instrument, multiplier: 1)
            }
            filledNotional += quantity * terms.deltaNotional
            tally.fills += 1
        }
        markets[CascadeWorld.underlying] = market
        if filledNotional > 0 {
            ledger.publish(account: index)
            tally.liquidated.insert(index)
            tally.liquidatedNotional += filledNotional
        }
        return filledNotional
    }

    /// The largest quantity up to `wanted`, in whole lots unless it is all of `wanted`, whose last
    /// contract fills within `limit` (quote units): a sale at or above it, a purchase at or below.
    static func fillable(_ wanted: Double, within limit: Double, side: BookSide, terms: InstrumentLiquidity,
                         model: LiquidityCostModel, lot: Double) -> Double {
        func within(_ quantity: Double) -> Bool {
            let price = model.closeCost(quantity, side: side, terms: terms).worstPrice(quoteToValuation: terms.quoteToValuation)
            let tolerance = 1e-9 * max(abs(limit), 1e-12)
            return side == .bid ? price >= limit - tolerance : price <= limit + tolerance
        }
        if within(wanted) { return wanted }
        var low = 0.0, high = wanted
        for _ in 0..<50 {
            let mid = 0.5 * (low + high)
            if within(mid) { low = mid } else { high = mid }
        }
        return lot > 0 ? (low / lot + 1e-9).rounded(.down) * lot : low
    }

    /// Δ sign per contract: 1 for futures and perpetuals, +|Δ| for calls and −|Δ| for puts.
    static func signedDelta(_ instrument: Instrument, _ terms: InstrumentLiquidity) -> Double {
        if case .option(_, _, .put) = instrument.kind { return -terms.absoluteDelta }
        return terms.absoluteDelta
    }

    /// Accounts whose fills left them without positions and with a negative equity: the fund
    /// covers the deficit, then auto-deleveraging of the opposite side's profitable positions.
    mutating func settleBankruptcies(_ indices: [Int], book: RiskBook, markets: MarketState) throws {
        let books = [CascadeWorld.underlying: book]
        for index in indices where !settled.contains(index) && ledger.accounts[index].positions.isEmpty {
            let account = ledger.accounts[index]
            let exposure = try AccountExposure(account: account, catalog: world.catalog, books: books, parameters: calculator.parameters)
            let equity = try calculator.summary(exposure, books: books, markets: markets).grossEquity
            guard equity < 0 else { continue }
            settled.insert(index)
            tally.bankrupt.insert(index)
            let candidates = try adlCandidates(opposing: closedDelta[index], excluding: index, markets: markets)
            let outcome = try ledger.settle(account: index, deficit: -equity, adlCandidates: candidates, accountIndex: accountIndex)
            ledger.publish(account: index)
            for allocation in outcome.allocations {
                if let other = accountIndex[allocation.accountID] { tally.deleveraged.insert(other) }
            }
        }
    }

    /// Every futures or perpetual position on the side opposite to `closed` (> 0: the bankrupt
    /// account sold, so shorts profit), with its profit at the mark, entry and mark notional and
    /// its account's equity from the last margin.
    func adlCandidates(opposing closed: Double, excluding excluded: Int, markets: MarketState) throws -> [AutoDeleveraging.Candidate] {
        guard closed != 0, let market = markets[CascadeWorld.underlying] else { return [] }
        let valuation = calculator.valuationPrice(in: markets)
        var candidates: [AutoDeleveraging.Candidate] = []
        for (index, account) in ledger.accounts.enumerated() where index != excluded && summaries[index].equity > 0 {
            for position in account.positions where position.quantity * closed < 0 && position.averageEntryPrice > 0 {
                guard let instrument = world.catalog[position.instrument], instrument.kind.isDeltaOne, instrument.kind != .spot else { continue }
                let mark: Double
                if case .future(let expiryMs) = instrument.kind {
                    guard let expiry = market.expiry(at: expiryMs) else { throw CascadeError("no forward for \(instrument.name)") }
                    mark = expiry.forward
                } else {
                    mark = market.perpetualMark ?? market.indexPrice
                }
                let size = instrument.contractSize, entry = position.averageEntryPrice, q = position.quantity
                let profit: Double, entryNotional: Double, markNotional: Double
                if instrument.settlement == .inverse {
                    profit = q * size * (1 / entry - 1 / mark) * market.indexPrice / valuation
                    entryNotional = abs(q) * size / valuation
                    markNotional = entryNotional
                } else {
                    profit = q * size * (mark - entry) / valuation
                    entryNotional = abs(q) * size * entry / valuation
                    markNotional = abs(q) * size * mark / valuation
                }
                candidates.append(AutoDeleveraging.Candidate(accountID: account.id, instrument: instrument.name, quantity: q,
                                                             unrealisedProfit: profit, entryNotional: entryNotional,
                                                             markNotional: markNotional, accountEquity: summaries[index].equity))
            }
        }
        return candidates
    }
}
