/// The explained result: every number of a margin result with what produced it.
extension MarginCalculator {
    // MARK: - Explained result

    /// The full margin result with its breakdown: per unit the scenario PnLs, what binds, every
    /// contingency and each position's contribution; per balance and position its value and haircuts;
    /// for the account, how the grid and the joint scenario set combine (``AccountRiskBreakdown``).
    public func explain(_ exposure: AccountExposure, books: [String: RiskBook], markets: MarketState) throws(MarginError) -> MarginResult {
        let balances = try valueBalances(exposure, markets: markets, detailed: true)
        let pegAddOn = parameters.stablecoinPeg?.initialFactorAddOn(valuationPrice: valuationPrice(in: markets)) ?? 0
        var units: [RiskUnitMargin] = []
        var components = balances.components
        var maintenance = 0.0, initial = 0.0, positionsValue = 0.0
        var asOf: Int64 = 0
        let layout = try riskLayout(exposure, books: books)
        let breakdown = try withJointScratch(layout) { (joint) throws(MarginError) -> AccountRiskBreakdown in
            var evaluations: [UnitEvaluation] = []
            var unitBooks: [RiskBook] = []
            for unit in exposure.units {
                guard let book = books[unit.underlying] else { throw .missingMarket(underlying: unit.underlying) }
                asOf = max(asOf, book.asOfMs)
                var evaluation = UnitEvaluation()
                evaluation.risk = try evaluate(unit, of: exposure, book: book, markets: markets, pegAddOn: pegAddOn,
                                               joint: joint, layout: layout, details: &evaluation)
                evaluations.append(evaluation)
                unitBooks.append(book)
            }
            var risks = evaluations.map(\.risk)
            let combination = risks.withUnsafeMutableBufferPointer { risks in
                let combination = combine(UnsafeBufferPointer(risks), joint: joint, layout: layout, explain: true)
                allocate(combination.riskLoss, to: risks)
                return combination
            }
            for (index, unit) in exposure.units.enumerated() {
                evaluations[index].risk = risks[index]
                let evaluation = evaluations[index]
                maintenance += evaluation.risk.maintenanceRequirement
                initial += evaluation.risk.initialRequirement
                positionsValue += evaluation.risk.positionsValue
                units.append(explainUnit(unit, of: exposure, book: unitBooks[index], evaluation: evaluation))
                components += positionComponents(unit, of: exposure, book: unitBooks[index])
            }
            return explainCombination(combination, exposure: exposure, books: unitBooks, evaluations: evaluations)
        }
        var accountContingencies: [ContingencyCharge] = []
        if balances.confidenceCharge > 0 {
            accountContingencies.append(ContingencyCharge(
                name: "collateral_confidence", maintenance: 0, initial: balances.confidenceCharge,
                detail: balances.confidenceDetail))
        }
        initial += balances.confidenceCharge
        let gross = balances.grossValue + positionsValue
        let equity = gross - balances.maintenanceHaircut
        let initialEquity = gross - balances.initialHaircut
        if !exposure.orderFills.isEmpty {
            let orders = try orderMargin(exposure, initialRequirement: initial, initialEquity: initialEquity, books: books, markets: markets,
                                         explain: true)
            initial += orders.total
            accountContingencies += orders.charges
        }
        return MarginResult(
            accountId: exposure.account.id, accountVersion: exposure.account.version,
            parameterSetId: parameters.id, parameterSetVersion: parameters.version,
            valuationAsset: parameters.valuationAsset, asOfMs: asOf,
            grossEquity: gross, equity: equity, initialEquity: initialEquity,
            maintenanceRequirement: maintenance, initialRequirement: initial,
            health: MarginSummary.health(equity: equity, initialEquity: initialEquity, maintenance: maintenance, initial: initial),
            riskUnits: units, accountContingencies: accountContingencies, equityComponents: components,
            riskModel: breakdown
        )
    }


    // MARK: - Explanation pieces

    func explainUnit(_ unit: AccountExposure.UnitExposure, of exposure: AccountExposure, book: RiskBook,
                     evaluation: UnitEvaluation) -> RiskUnitMargin {
        let contributions = evaluation.bindingScenario.map {
            columnContributions(unit, of: exposure, book: book, column: $0, linkedValues: evaluation.linkedValues)
        } ?? []
        let label = bindingLabel(evaluation, book: book)
        return RiskUnitMargin(
            underlying: unit.underlying, scenarioPnLs: evaluation.scenarioPnLs,
            unadjustedScenarioPnLs: evaluation.unadjustedScenarioPnLs, adjustment: book.adjustment.isIdentity ? nil : book.adjustment,
            basisContingency: evaluation.risk.basis,
            bindingScenario: evaluation.bindingScenario, bindingLabel: label, worstLoss: evaluation.risk.worstLoss,
            allocatedLoss: evaluation.risk.allocatedLoss,
            maintenanceFactor: evaluation.risk.maintenanceFactor, initialFactor: evaluation.risk.initialFactor,
            contingencies: evaluation.contingencies,
            maintenanceRequirement: evaluation.risk.maintenanceRequirement, initialRequirement: evaluation.risk.initialRequirement,
            markToMarket: evaluation.risk.positionsValue + evaluation.linkedValue, contributions: contributions,
            indexPrice: book.market.indexPrice, marketTimestampMs: book.market.timestampMs,
            liquidityAddOns: evaluation.liquidityAddOns
        )
    }

    /// What binds a unit: its binding scenario's label, the basis contingency, or nothing.
    func bindingLabel(_ evaluation: UnitEvaluation, book: RiskBook) -> String {
        if let binding = evaluation.bindingScenario { return book.columnLabel(binding) }
        return evaluation.risk.worstLoss > 0 ? "basis contingency" : "no loss"
    }

    /// What the liquidation planner reads of an account besides its summary, without the full
    /// explanation (no joint-tail breakdown, no contributions): each position's mark value per
    /// contract (valuation units, signed per signed contract: what closing at the mark moves into
    /// cash) and `underlying: label` of the unit with the largest standalone grid loss, as
    /// ``explain(_:books:markets:)`` labels it (the first such unit on a tie).
    public func closeOutFacts(_ exposure: AccountExposure, books: [String: RiskBook],
                              markets: MarketState) throws(MarginError) -> (valuePerContract: [String: Double], bindingScenario: String) {
        let pegAddOn = parameters.stablecoinPeg?.initialFactorAddOn(valuationPrice: valuationPrice(in: markets)) ?? 0
        let layout = try riskLayout(exposure, books: books)
        return try withJointScratch(layout) { (joint) throws(MarginError) -> ([String: Double], String) in
            var values: [String: Double] = [:]
            var worst: (loss: Double, label: String)?
            for unit in exposure.units {
                guard let book = books[unit.underlying] else { throw .missingMarket(underlying: unit.underlying) }
                var evaluation = UnitEvaluation()
                evaluation.risk = try evaluate(unit, of: exposure, book: book, markets: markets, pegAddOn: pegAddOn, joint: joint,
                                               layout: layout, details: &evaluation)
                if worst == nil || evaluation.risk.worstLoss > worst!.loss {
                    worst = (evaluation.risk.worstLoss, "\(unit.underlying): \(bindingLabel(evaluation, book: book))")
                }
                for component in positionComponents(unit, of: exposure, book: book) where component.quantity != 0 {
                    values[component.name] = component.value / component.quantity
                }
            }
            return (values, worst?.label ?? "")
        }
    }

    /// Each position's PnL (valuation units, negative = loss) in one column of the unit's book: per
    /// expiry, the bucket's static-discount factor at that column and the skew sign flip; delta-one
    /// positions and linked balances move as ``RiskBook/deltaOneMoves(column:)`` says. The parts add
    /// up to the unit's PnL in that column before the extended dampener and the gain credit.
    func columnContributions(_ unit: AccountExposure.UnitExposure, of exposure: AccountExposure, book: RiskBook, column: Int,
                             linkedValues: [(asset: String, amount: Double, value: Double)]) -> [PositionContribution] {
        var contributions: [PositionContribution] = []
        let positions = exposure.account.positions
        let scenario = book.scenarios[column]
        let moves = book.deltaOneMoves(column: column)
        let holdings = Array(exposure.options(of: unit))
        RiskBook.forEachExpiryRun(holdings, expiry: { book.expiryIndex(ofSlot: $0) }) { run, groupIndex in
            var shocked = 0.0, current = 0.0
            for holding in holdings[run] {
                shocked += holding.quantity * book.scenarioValue(slot: holding.slot, scenario: column)
                current += holding.quantity * book.currentValue(slot: holding.slot)
            }
            let group = book.expiries[groupIndex]
            let (factor, sign) = ExpiryBucketRule.scalar(
                shocked: shocked, current: current, positive: group.staticDiscountPositive, negative: group.staticDiscountNegative,
                discount: book.parameters.staticDiscount != nil, dampening: scenario.dampening, skew: scenario.volatilityShock.isSkew)
            for holding in holdings[run] {
                let pnl = holding.quantity * (book.scenarioValue(slot: holding.slot, scenario: column) * factor - book.currentValue(slot: holding.slot))
                contributions.append(PositionContribution(
                    name: book.instruments[holding.slot].name, quantity: holding.quantity, pnl: pnl * scenario.dampening * sign))
            }
        }
        for positionIndex in exposure.deltaOne(of: unit) {
            let position = positions[positionIndex]
            guard let instrument = exposure.instruments[position.instrument],
                  let (notional, value, _) = try? deltaOne(position, instrument: instrument, book: book) else { continue }
            let pnl = notional * moves.notional + (book.valuationFollowsUnderlying ? value * moves.value : 0)
            contributions.append(PositionContribution(name: instrument.name, quantity: position.quantity, pnl: pnl))
        }
        for linked in linkedValues {
            let pnl = linked.value * moves.notional + (book.valuationFollowsUnderlying ? linked.value * moves.value : 0)
            contributions.append(PositionContribution(name: linked.asset, quantity: linked.amount, pnl: pnl))
        }
        return contributions
    }

    func positionComponents(_ unit: AccountExposure.UnitExposure, of exposure: AccountExposure, book: RiskBook) -> [EquityComponent] {
        var components: [EquityComponent] = []
        for holding in exposure.options(of: unit) {
            let value = holding.quantity * book.currentValue(slot: holding.slot)
            let instrument = book.instruments[holding.slot]
            let unitValue = book.currentValue(slot: holding.slot) / instrument.contractSize
            components.append(EquityComponent(kind: .position, name: instrument.name, quantity: holding.quantity,
                                              price: unitValue, value: value, maintenanceHaircut: 0, initialHaircut: 0))
        }
        for positionIndex in exposure.deltaOne(of: unit) {
            let position = exposure.account.positions[positionIndex]
            guard let instrument = exposure.instruments[position.instrument],
                  let (_, value, mark) = try? deltaOne(position, instrument: instrument, book: book) else { continue }
            components.append(EquityComponent(kind: .position, name: instrument.name, quantity: position.quantity,
                                              price: mark, value: value, maintenanceHaircut: 0, initialHaircut: 0))
        }
        return components
    }
}

/// Compact decimal rendering for explanation texts (not for machine output).
func formatAmount(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    let magnitude = abs(value)
    let digits = magnitude >= 100 ? 2 : (magnitude >= 1 ? 4 : 6)
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    return String((value * scale).rounded() / scale)
}
