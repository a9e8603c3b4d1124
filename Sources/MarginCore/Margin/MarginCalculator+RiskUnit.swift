/// One risk unit: scenario PnL from the risk arrays, delta-one legs, contingencies and requirements.
extension MarginCalculator {
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
                RiskBook.forEachExpiryRun(holdings, expiry: { book.expiryIndex(ofSlot: $0) }) { run, group in
                    var grossQuantity = 0.0
                    for holding in holdings[run] { grossQuantity += abs(holding.quantity) * terms[holding.slot].contractSize }
                    let expiry = book.expiries[group]
                    let confidence = min(perpetualConfidence, expiry.confidence)
                    let notional = grossQuantity * index
                    let charge = rule.charge(confidence: confidence, notional: notional)
                    if charge > 0 {
                        confidenceCharge += charge
                        if explain { confidenceParts.append("options expiring \(expiry.expiryMs) notional \(formatAmount(notional)) at confidence \(formatAmount(confidence))") }
                    }
                }
            }
        }

        // The contingencies' sums, in the order they are itemised.
        var maintenanceContingency = 0.0, initialContingency = 0.0
        /// A percentage contingency on `notional`; its detail text is formatted only when explaining.
        func percent(_ rule: PercentContingency?, on notional: Double, name: String, detail: @autoclosure () -> String) {
            guard let rule, notional > 0 else { return }
            let maintenance = notional * rule.maintenance, initial = notional * rule.initial
            maintenanceContingency += maintenance
            initialContingency += initial
            details?.pointee.contingencies.append(ContingencyCharge(name: name, maintenance: maintenance, initial: initial, detail: detail()))
        }
        percent(book.parameters.shortOptionContingency, on: nakedShortNotional, name: "short_option",
                detail: "\(formatAmount(unit.nakedShortUnits)) naked short units × index \(formatAmount(index))")
        percent(book.parameters.deltaOneContingency, on: deltaOneContractNotional, name: "delta_one_notional",
                detail: "futures and perpetuals notional \(formatAmount(deltaOneContractNotional))")
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
}
