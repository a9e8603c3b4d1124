/// Portfolio margin of accounts from risk books.
///
/// Per underlying (risk unit) the account's scenario PnL is assembled from the risk arrays:
/// options are summed per expiry (`Σ quantity × row`), each expiry's shocked value is statically
/// discounted by its sign when the rule is on, the current value subtracted, the result dampened and,
/// in skew scenarios, counted as a loss whichever its sign; futures, perpetuals and linked balances
/// add `notional × (shock − 1) × dampening`. The worst of the scenarios and the basis contingency
/// gives the unit's loss; `MM = mmFactor × loss + MM contingencies`, `IM = imFactor × loss + IM
/// contingencies`, summed over units. Equity is the value of balances (less haircuts) and positions.
public struct MarginCalculator: Sendable {
    public let parameters: RiskParameters
    /// Each unit's parameters with the joint scenario set's columns appended, precomputed once.
    let bookUnits: [String: RiskUnitParameters]

    public init(parameters: RiskParameters) {
        self.parameters = parameters
        var units: [String: RiskUnitParameters] = [:]
        for underlying in parameters.riskUnits.keys { units[underlying] = parameters.bookParameters(for: underlying) }
        self.bookUnits = units
    }

    /// USD price of the valuation asset in `markets` (1 when it has no market).
    public func valuationPrice(in markets: MarketState) -> Double {
        markets[parameters.valuationAsset]?.indexPrice ?? 1
    }

    /// Builds the risk book of `underlying` for the current market and these parameters.
    /// Pass the previous book of the underlying as `reusing` to keep its slot layout when the
    /// catalog has not changed (a market tick).
    public func riskBook(for underlying: String, catalog: InstrumentCatalog, markets: MarketState, asOfMs: Int64,
                         reusing previous: RiskBook? = nil) throws(MarginError) -> RiskBook {
        guard let market = markets[underlying] else { throw .missingMarket(underlying: underlying) }
        guard let unit = bookUnits[underlying] else { throw .missingParameters(underlying: underlying) }
        return try RiskBook(
            market: market, instruments: catalog, parameters: unit, parameterSetId: parameters.id,
            parameterSetVersion: parameters.version, valuationPrice: valuationPrice(in: markets), asOfMs: asOfMs,
            reusing: previous
        )
    }

    /// One-shot margin of an account (what-if): builds the books it needs, then explains.
    public func margin(account: Account, catalog: InstrumentCatalog, markets: MarketState, asOfMs: Int64) throws(MarginError) -> MarginResult {
        try parameters.validate()
        var books: [String: RiskBook] = [:]
        var underlyings = Set<String>()
        for position in account.positions where position.quantity != 0 {
            guard let instrument = catalog[position.instrument] else { throw .unknownInstrument(position.instrument) }
            underlyings.insert(instrument.underlying)
        }
        for (asset, amount) in account.balances where amount != 0 && asset != parameters.valuationAsset {
            let underlying = catalog[asset]?.underlying ?? asset
            if parameters.collateralParameters(for: asset).riskLinked, parameters.riskUnit(for: underlying) != nil {
                underlyings.insert(underlying)
            }
        }
        for underlying in underlyings.sorted() {
            guard parameters.riskUnit(for: underlying) != nil else { throw .missingParameters(underlying: underlying) }
            books[underlying] = try riskBook(for: underlying, catalog: catalog, markets: markets, asOfMs: asOfMs)
        }
        let exposure = try AccountExposure(account: account, catalog: catalog, books: books, parameters: parameters)
        let result = try explain(exposure, books: books, markets: markets)
        // The final guard: no result carries NaN or infinity (extreme inputs are refused instead).
        if let field = result.firstNonFiniteField { throw .numerical("\(field) is not finite for account \(account.id)") }
        return result
    }

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

    // MARK: - One risk unit

    /// The figures of one unit that the account-level combination and the requirements need: plain
    /// values, so that ``summary(_:books:markets:)`` keeps them on the stack.
    struct UnitRisk {
        var basis = 0.0
        var worstLoss = 0.0
        var maintenanceFactor = 0.0
        var initialFactor = 0.0
        var maintenanceContingency = 0.0
        var initialContingency = 0.0
        var maintenanceRequirement = 0.0
        var initialRequirement = 0.0
        /// Options value + delta-one unrealised PnL and funding (balances excluded).
        var positionsValue = 0.0
        /// Whether the unit's book has the joint scenario set's columns.
        var hasJointScenarios = false
        /// The account's risk loss allocated to this unit (``MarginCalculator/allocate(_:to:)``).
        var allocatedLoss = 0.0
    }

    /// Everything computed for one unit: its ``UnitRisk`` and what only the explanation shows: the
    /// scenario PnLs, the contingencies with their details and the linked balances.
    struct UnitEvaluation {
        var risk = UnitRisk()
        var scenarioPnLs: [Double] = []
        var bindingScenario: Int?
        var contingencies: [ContingencyCharge] = []
        /// Linked balances' value (already in the balance valuation), in total and per asset.
        var linkedValue = 0.0
        var linkedValues: [(asset: String, amount: Double, value: Double)] = []
        /// Per-instrument liquidity and concentration add-ons.
        var liquidityAddOns: [LiquidityAddOn] = []
    }

    /// Scenario-exposed notional (valuation units) and mark-to-market of a delta-one position.
    func deltaOne(_ position: Position, instrument: Instrument, book: RiskBook) throws(MarginError) -> (notional: Double, value: Double, mark: Double) {
        let market = book.market
        let index = market.indexPrice
        let q = position.quantity * instrument.contractSize
        let mark: Double
        switch instrument.kind {
        case .perpetual:
            mark = market.perpetualMark ?? index
        case .future(let expiryMs):
            mark = try VolatilitySurface(market: market).forward(expiryMs: expiryMs, nowMs: book.asOfMs)
        case .spot, .option:
            return (0, 0, 0)
        }
        switch instrument.settlement {
        case .linear:
            return (q * mark, q * (mark - position.averageEntryPrice) + position.unsettledFunding, mark)
        case .inverse:
            // q USD of face bought at `entry`: worth q·(1/entry − 1/mark) coins; moves like q/entry coins.
            let coinsToValuation = index / book.valuationPrice
            let entry = position.averageEntryPrice
            return (q / entry * coinsToValuation, q * (1 / entry - 1 / mark) * coinsToValuation + position.unsettledFunding, mark)
        }
    }

    /// One unit's scenario PnL, worst grid loss and contingencies; its columns are added into
    /// `joint` as `layout` says (the account-level combination reads them). With `details` (the
    /// explanation), the scenario PnLs, the itemised contingencies and the linked balances are
    /// written there too; without, nothing is allocated or formatted.
    func evaluate(_ unit: borrowing AccountExposure.UnitExposure, of exposure: AccountExposure, book: RiskBook, markets: MarketState,
                  pegAddOn: Double, joint: UnsafeMutableBufferPointer<Double>?, layout: AccountRiskLayout,
                  details: UnsafeMutablePointer<UnitEvaluation>?) throws(MarginError) -> UnitRisk {
        let explain = details != nil
        var risk = UnitRisk()
        let index = book.market.indexPrice
        let indexConfidence = book.market.indexConfidence

        // Delta-one exposure and contingencies.
        var deltaNotional = 0.0
        var deltaOneContractNotional = 0.0
        var confidenceCharge = 0.0
        var confidenceParts: [String] = []
        let confidenceRule = parameters.confidenceContingency
        let perpetualConfidence = unit.holdsPerpetual ? min(indexConfidence, book.market.perpetualConfidence) : indexConfidence
        for positionIndex in exposure.deltaOne(of: unit) {
            let position = exposure.account.positions[positionIndex]
            guard let instrument = exposure.instruments[position.instrument] else { throw .unknownInstrument(position.instrument) }
            let (notional, value, _) = try deltaOne(position, instrument: instrument, book: book)
            deltaNotional += notional
            risk.positionsValue += value
            let contractNotional = instrument.settlement == .linear
                ? abs(position.quantity) * instrument.contractSize * index
                : abs(position.quantity) * instrument.contractSize / book.valuationPrice
            deltaOneContractNotional += contractNotional
            if let rule = confidenceRule {
                var confidence = min(indexConfidence, book.market.perpetualConfidence)
                if case .future(let expiryMs) = instrument.kind {
                    confidence = min(indexConfidence, book.market.expiry(at: expiryMs)?.forwardConfidence ?? indexConfidence)
                }
                let charge = rule.charge(confidence: confidence, notional: contractNotional)
                if charge > 0 {
                    confidenceCharge += charge
                    if explain { confidenceParts.append("\(instrument.name) notional \(formatAmount(contractNotional)) at confidence \(formatAmount(confidence))") }
                }
            }
        }
        for (asset, amount) in exposure.linkedBalances(of: unit) {
            let price = try assetPrice(asset, exposure: exposure, markets: markets).price
            let value = amount * price / book.valuationPrice
            deltaNotional += value
            if let details {
                details.pointee.linkedValue += value
                details.pointee.linkedValues.append((asset, amount, value))
            }
        }

        // Scenario aggregation over the risk arrays.
        let optionValue: Double
        let basis: Double
        let worstIndex: Int
        let worst: Double
        (optionValue, basis, worstIndex, worst) = book.withAggregationScratch { total, bucket in
            let (value, basisValue) = exposure.withOptions(of: unit) { holdings in
                ScenarioAggregation.aggregate(book: book, holdings: holdings, deltaOneNotional: deltaNotional, total: total, bucket: bucket)
            }
            // Worst of the basis contingency (checked first, wins ties) and the scenarios.
            let (minimum, minimumIndex) = ScenarioAggregation.worst(total, count: book.gridScenarioCount, floor: basisValue)
            if let joint { layout.accumulate(total, of: book, into: joint) }
            details?.pointee.scenarioPnLs = Array(total[0..<book.gridScenarioCount])
            return (value, basisValue, minimumIndex, minimum)
        }
        risk.positionsValue += optionValue
        risk.basis = basis
        risk.hasJointScenarios = book.scenarioCount > book.gridScenarioCount
        details?.pointee.bindingScenario = worstIndex >= 0 ? worstIndex : nil
        risk.worstLoss = max(0, -worst)

        // Option contingencies: naked shorts (netted per strike when the exposure was compiled), and
        // oracle confidence per expiry on the gross option units (contract sizes from the book's slot terms).
        let nakedShortNotional = unit.nakedShortUnits * index
        if let rule = confidenceRule {
            let terms = book.slotTerms
            exposure.withOptions(of: unit) { holdings in
                var expiryStart = 0
                while expiryStart < holdings.count {
                    let group = book.expiryIndex(ofSlot: holdings[expiryStart].slot)
                    var expiryEnd = expiryStart
                    var grossQuantity = 0.0
                    while expiryEnd < holdings.count, book.expiryIndex(ofSlot: holdings[expiryEnd].slot) == group {
                        grossQuantity += abs(holdings[expiryEnd].quantity) * terms[holdings[expiryEnd].slot].contractSize
                        expiryEnd += 1
                    }
                    let expiry = book.expiries[group]
                    let confidence = min(perpetualConfidence, expiry.confidence)
                    let notional = grossQuantity * index
                    let charge = rule.charge(confidence: confidence, notional: notional)
                    if charge > 0 {
                        confidenceCharge += charge
                        if explain { confidenceParts.append("options expiring \(expiry.expiryMs) notional \(formatAmount(notional)) at confidence \(formatAmount(confidence))") }
                    }
                    expiryStart = expiryEnd
                }
            }
        }

        // The contingencies' sums, in the order they are itemised.
        var maintenanceContingency = 0.0, initialContingency = 0.0
        if let rule = book.parameters.shortOptionContingency, nakedShortNotional > 0 {
            let maintenance = nakedShortNotional * rule.maintenance, initial = nakedShortNotional * rule.initial
            maintenanceContingency += maintenance
            initialContingency += initial
            if let details {
                details.pointee.contingencies.append(ContingencyCharge(
                    name: "short_option", maintenance: maintenance, initial: initial,
                    detail: "\(formatAmount(unit.nakedShortUnits)) naked short units × index \(formatAmount(index))"))
            }
        }
        if let rule = book.parameters.deltaOneContingency, deltaOneContractNotional > 0 {
            let maintenance = deltaOneContractNotional * rule.maintenance, initial = deltaOneContractNotional * rule.initial
            maintenanceContingency += maintenance
            initialContingency += initial
            if let details {
                details.pointee.contingencies.append(ContingencyCharge(
                    name: "delta_one_notional", maintenance: maintenance, initial: initial,
                    detail: "futures and perpetuals notional \(formatAmount(deltaOneContractNotional))"))
            }
        }
        if confidenceCharge > 0 {
            initialContingency += confidenceCharge
            if let details {
                details.pointee.contingencies.append(ContingencyCharge(
                    name: "oracle_confidence", maintenance: 0, initial: confidenceCharge, detail: confidenceParts.joined(separator: "; ")))
            }
        }
        if book.parameters.liquidityAddOn != nil || book.parameters.concentrationAddOn != nil {
            let addOns = try liquidityAddOns(unit, of: exposure, book: book, explain: explain)
            for charge in addOns.charges {
                maintenanceContingency += charge.maintenance
                initialContingency += charge.initial
            }
            if let details {
                details.pointee.contingencies += addOns.charges
                details.pointee.liquidityAddOns = addOns.lines
            }
        }
        risk.maintenanceContingency = maintenanceContingency
        risk.initialContingency = initialContingency
        risk.maintenanceFactor = book.parameters.maintenanceFactor
        risk.initialFactor = book.parameters.initialFactor + pegAddOn
        risk.allocatedLoss = risk.worstLoss
        risk.maintenanceRequirement = risk.maintenanceFactor * risk.worstLoss + maintenanceContingency
        risk.initialRequirement = risk.initialFactor * risk.worstLoss + initialContingency
        return risk
    }

    // MARK: - Explanation pieces

    func explainUnit(_ unit: AccountExposure.UnitExposure, of exposure: AccountExposure, book: RiskBook,
                     evaluation: UnitEvaluation) -> RiskUnitMargin {
        let contributions = evaluation.bindingScenario.map {
            columnContributions(unit, of: exposure, book: book, column: $0, linkedValues: evaluation.linkedValues)
        } ?? []
        let label: String
        if let binding = evaluation.bindingScenario {
            label = book.scenarios[binding].label
        } else if evaluation.risk.worstLoss > 0 {
            label = "basis contingency"
        } else {
            label = "no loss"
        }
        return RiskUnitMargin(
            underlying: unit.underlying, scenarioPnLs: evaluation.scenarioPnLs, basisContingency: evaluation.risk.basis,
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

    /// Each position's PnL (valuation units, negative = loss) in one column of the unit's book: per
    /// expiry, the bucket's static-discount factor at that column and the skew sign flip; delta-one
    /// positions and linked balances move by `notional × (shock − 1) × dampening`. The parts add up
    /// to the unit's PnL in that column.
    func columnContributions(_ unit: AccountExposure.UnitExposure, of exposure: AccountExposure, book: RiskBook, column: Int,
                             linkedValues: [(asset: String, amount: Double, value: Double)]) -> [PositionContribution] {
        var contributions: [PositionContribution] = []
        let positions = exposure.account.positions
        let scenario = book.scenarios[column]
        let move = (scenario.spotShock - 1) * scenario.dampening
        var start = 0
        let holdings = Array(exposure.options(of: unit))
        while start < holdings.count {
            let groupIndex = book.expiryIndex(ofSlot: holdings[start].slot)
            var end = start
            var shocked = 0.0, current = 0.0
            while end < holdings.count, book.expiryIndex(ofSlot: holdings[end].slot) == groupIndex {
                shocked += holdings[end].quantity * book.scenarioValue(slot: holdings[end].slot, scenario: column)
                current += holdings[end].quantity * book.currentValue(slot: holdings[end].slot)
                end += 1
            }
            let group = book.expiries[groupIndex]
            let factor = book.parameters.staticDiscount == nil ? 1 : (shocked >= 0 ? group.staticDiscountPositive : group.staticDiscountNegative)
            let bucketPnL = (shocked * factor - current) * scenario.dampening
            let flip: Double = scenario.volatilityShock.isSkew && bucketPnL > 0 ? -1 : 1
            for holding in holdings[start..<end] {
                let pnl = holding.quantity * (book.scenarioValue(slot: holding.slot, scenario: column) * factor - book.currentValue(slot: holding.slot))
                contributions.append(PositionContribution(
                    name: book.instruments[holding.slot].name, quantity: holding.quantity, pnl: pnl * scenario.dampening * flip))
            }
            start = end
        }
        for positionIndex in exposure.deltaOne(of: unit) {
            let position = positions[positionIndex]
            guard let instrument = exposure.instruments[position.instrument],
                  let (notional, _, _) = try? deltaOne(position, instrument: instrument, book: book) else { continue }
            contributions.append(PositionContribution(name: instrument.name, quantity: position.quantity, pnl: notional * move))
        }
        for linked in linkedValues {
            contributions.append(PositionContribution(name: linked.asset, quantity: linked.amount, pnl: linked.value * move))
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
