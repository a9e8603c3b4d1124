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
        /// The unit's joint-scenario tail when its book's per-exposure table settled it
        /// (``SingleExposureTable``): its columns are then not added into the account's.
        var jointTail: JointTailFigure?
    }

    /// Everything computed for one unit: its ``UnitRisk`` and what only the explanation shows: the
    /// scenario PnLs, the contingencies with their details and the linked balances.
    struct UnitEvaluation {
        var risk = UnitRisk()
        var scenarioPnLs: [Double] = []
        /// The scenario PnLs before the extended dampener and the gain credit (empty when neither applies).
        var unadjustedScenarioPnLs: [Double] = []
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
    ///
    /// In four named parts: the delta-one legs and linked balances (``deltaOneLegs``), the scenario
    /// aggregation over the risk arrays (``aggregateScenarios``), the contingencies
    /// (``contingencies``, in `+Contingencies`), and the requirements
    /// `factor × worst loss + contingencies` (initial factor + the peg add-on).
    func evaluate(_ unit: borrowing AccountExposure.UnitExposure, of exposure: AccountExposure, book: RiskBook, markets: MarketState,
                  pegAddOn: Double, joint: UnsafeMutableBufferPointer<Double>?, layout: AccountRiskLayout,
                  details: UnsafeMutablePointer<UnitEvaluation>?) throws(MarginError) -> UnitRisk {
        var confidence = ConfidenceTally(rule: parameters.confidenceContingency, explain: details != nil)
        let legs = try deltaOneLegs(unit, of: exposure, book: book, markets: markets, confidence: &confidence, details: details)
        let scenarios = aggregateScenarios(unit, of: exposure, book: book, deltaOneNotional: legs.notional,
                                           deltaOneValue: legs.value + legs.linkedValue, joint: joint, layout: layout, details: details)
        var risk = UnitRisk()
        risk.maintenanceFactor = book.parameters.maintenanceFactor
        risk.initialFactor = book.parameters.initialFactor + pegAddOn
        let charges = try contingencies(unit, of: exposure, book: book, legs: legs, factors: (risk.maintenanceFactor, risk.initialFactor),
                                        confidence: &confidence, details: details)
        risk.positionsValue = legs.value + scenarios.optionValue
        risk.basis = scenarios.basis
        risk.hasJointScenarios = book.scenarioCount > book.gridScenarioCount
        risk.worstLoss = max(0, -scenarios.worst)
        risk.maintenanceContingency = charges.maintenance
        risk.initialContingency = charges.initial
        risk.allocatedLoss = risk.worstLoss
        risk.jointTail = scenarios.jointTail
        risk.maintenanceRequirement = risk.maintenanceFactor * risk.worstLoss + charges.maintenance
        risk.initialRequirement = risk.initialFactor * risk.worstLoss + charges.initial
        return risk
    }

    /// The unit's futures and perpetuals, and its linked balances.
    struct DeltaOneLegs {
        /// Scenario-exposed notional (valuation units): futures, perpetuals and linked balances.
        var notional = 0.0
        /// Mark-to-market of the futures and perpetuals (unrealised PnL and funding, valuation units).
        var value = 0.0
        /// Gross contract notional of the futures and perpetuals (valuation units), for contingencies.
        var contractNotional = 0.0
        /// Linked balances' value (valuation units; it moves only in a coin-margined book).
        var linkedValue = 0.0
        /// Roll-shock charge of the futures and perpetuals (valuation units; 0 without the rule).
        var rollShock = 0.0
        /// Each leg's part of the roll shock, when explaining.
        var rollParts: [String] = []
    }

    /// Values the unit's delta-one legs and linked balances; tallies each leg's oracle-confidence
    /// charge (the forward's confidence for a future, the perpetual's for a perpetual).
    func deltaOneLegs(_ unit: borrowing AccountExposure.UnitExposure, of exposure: AccountExposure, book: RiskBook, markets: MarketState,
                      confidence: inout ConfidenceTally, details: UnsafeMutablePointer<UnitEvaluation>?) throws(MarginError) -> DeltaOneLegs {
        var legs = DeltaOneLegs()
        let index = book.market.indexPrice
        let indexConfidence = book.market.indexConfidence
        let roll = book.parameters.rollShock
        for positionIndex in exposure.deltaOne(of: unit) {
            let position = exposure.account.positions[positionIndex]
            guard let instrument = exposure.instruments[position.instrument] else { throw .unknownInstrument(position.instrument) }
            let (notional, value, mark) = try deltaOne(position, instrument: instrument, book: book)
            legs.notional += notional
            legs.value += value
            let contractNotional = instrument.settlement == .linear
                ? abs(position.quantity) * instrument.contractSize * index
                : abs(position.quantity) * instrument.contractSize / book.valuationPrice
            legs.contractNotional += contractNotional
            if let roll {
                // Size in underlying units at the current mark, valued at the index (RollShockRule).
                let units = instrument.settlement == .linear
                    ? abs(position.quantity) * instrument.contractSize
                    : abs(position.quantity) * instrument.contractSize / mark
                let years = instrument.kind.expiryMs.map { VolatilitySurface.yearFraction(from: book.asOfMs, to: $0) } ?? 0
                let rate = roll.rate(yearsToExpiry: years)
                let charge = units * index / book.valuationPrice * rate
                legs.rollShock += charge
                if details != nil {
                    legs.rollParts.append("\(instrument.name) \(formatAmount(units)) × \(formatAmount(index)) × \(formatAmount(rate))")
                }
            }
            if confidence.rule != nil {
                var level = min(indexConfidence, book.market.perpetualConfidence)
                if case .future(let expiryMs) = instrument.kind {
                    level = min(indexConfidence, book.market.expiry(at: expiryMs)?.forwardConfidence ?? indexConfidence)
                }
                confidence.add(notional: contractNotional, confidence: level,
                               detail: "\(instrument.name) notional \(formatAmount(contractNotional)) at confidence \(formatAmount(level))")
            }
        }
        for (asset, amount) in exposure.linkedBalances(of: unit) {
            let price = try assetPrice(asset, exposure: exposure, markets: markets).price
            let value = amount * price / book.valuationPrice
            legs.notional += value
            legs.linkedValue += value
            if let details {
                details.pointee.linkedValue += value
                details.pointee.linkedValues.append((asset, amount, value))
            }
        }
        return legs
    }

    /// Aggregates the unit's options over the risk arrays with the delta-one notional: the options'
    /// value, the basis contingency, and the worst grid scenario (the basis is checked first and
    /// wins ties); adds the columns into `joint`; records the scenario PnLs and the binding
    /// scenario when explaining.
    func aggregateScenarios(_ unit: borrowing AccountExposure.UnitExposure, of exposure: AccountExposure, book: RiskBook,
                            deltaOneNotional: Double, deltaOneValue: Double, joint: UnsafeMutableBufferPointer<Double>?,
                            layout: AccountRiskLayout,
                            details: UnsafeMutablePointer<UnitEvaluation>?) -> ScenarioFigures {
        if details == nil, joint != nil, exposure.units.count == 1, let table = book.singleExposures,
           layout.historicalColumns == book.scenarioCount - book.gridScenarioCount,
           let figures = singleExposure(unit, of: exposure, book: book, table: table, deltaOneNotional: deltaOneNotional, deltaOneValue: deltaOneValue)
            ?? gridBinding(unit, of: exposure, book: book, table: table, deltaOneNotional: deltaOneNotional, deltaOneValue: deltaOneValue) {
            return figures
        }
        let (optionValue, basis, worstIndex, worst) = book.withAggregationScratch { total, bucket in
            let (value, basisValue) = exposure.withOptions(of: unit) { holdings in
                ScenarioAggregation.aggregate(book: book, holdings: holdings, deltaOneNotional: deltaOneNotional, deltaOneValue: deltaOneValue,
                                              total: total, bucket: bucket)
            }
            if details != nil, !book.adjustedColumns.isEmpty {
                details?.pointee.unadjustedScenarioPnLs = Array(total[0..<book.gridScenarioCount])
            }
            let (minimum, minimumIndex) = ScenarioAggregation.worstGrid(total, book: book, floor: basisValue)
            if let joint { layout.accumulate(total, of: book, into: joint) }
            details?.pointee.scenarioPnLs = Array(total[0..<book.gridScenarioCount])
            return (value, basisValue, minimumIndex, minimum)
        }
        details?.pointee.bindingScenario = worstIndex >= 0 ? worstIndex : nil
        return ScenarioFigures(optionValue: optionValue, basis: basis, worst: worst)
    }

    /// What ``aggregateScenarios`` finds for a unit: the options' value, the basis value (≤ 0), the
    /// worst grid PnL, and the joint tail when a ``SingleExposureTable`` gave it.
    struct ScenarioFigures {
        var optionValue: Double
        var basis: Double
        var worst: Double
        var jointTail: JointTailFigure?
    }

    /// The figures of an account's only unit from its book's ``SingleExposureTable`` when the unit
    /// is one option holding or delta-one only (not a coin-margined value, which moves apart from
    /// the notional); nil otherwise. The grid columns are scaled, then the book's adjustment and the
    /// worst scenario are applied as for any unit; VaR and ES scale with the exposure.
    func singleExposure(_ unit: borrowing AccountExposure.UnitExposure, of exposure: AccountExposure, book: RiskBook,
                        table: SingleExposureTable, deltaOneNotional: Double, deltaOneValue: Double) -> ScenarioFigures? {
        guard !(book.valuationFollowsUnderlying && deltaOneValue != 0) else { return nil }
        let found: (entry: Int, scale: Double, optionValue: Double)? = exposure.withOptions(of: unit) { holdings in
            if holdings.isEmpty { return (table.deltaOneEntry(notional: deltaOneNotional), abs(deltaOneNotional), 0) }
            guard holdings.count == 1, deltaOneNotional == 0 else { return nil }
            let holding = holdings[0]
            return (table.optionEntry(slot: holding.slot, quantity: holding.quantity), abs(holding.quantity),
                    holding.quantity * book.currentValue(slot: holding.slot))
        }
        guard let (entry, scale, optionValue) = found else { return nil }
        let count = table.gridCount
        let basis = scale * table.basis[entry]
        let worst = book.withAggregationScratch { total, _ in
            table.grid.withUnsafeBufferPointer { grid in
                let base = entry * count
                for column in 0..<count { total[column] = scale * grid[base + column] }
            }
            return ScenarioAggregation.worstGrid(total, book: book, floor: basis).value
        }
        return ScenarioFigures(optionValue: optionValue, basis: basis, worst: worst,
                               jointTail: .measured(valueAtRisk: scale * table.valueAtRisk[entry], expectedShortfall: scale * table.expectedShortfall[entry]))
    }

    /// The figures of an account's only unit from its grid columns alone, when the joint tail
    /// provably cannot bind: ES is subadditive and the account's worst volatility column per
    /// scenario is at least the sum of its positions' own, so `ES ≤ Σ |q|·ES(sign(q)·row) +
    /// |N|·ES(sign(N)·moves)` from the ``SingleExposureTable``, and VaR ≤ ES. When that bound is at
    /// most the grid loss and the risk loss is their maximum, the risk loss is the grid loss and the
    /// thousands of joint columns are never read. Not with a static discount (a bucket's discounted
    /// value is not superadditive in its holdings) or a coin-margined value; nil otherwise.
    func gridBinding(_ unit: borrowing AccountExposure.UnitExposure, of exposure: AccountExposure, book: RiskBook,
                     table: SingleExposureTable, deltaOneNotional: Double, deltaOneValue: Double) -> ScenarioFigures? {
        guard parameters.historicalSimulation?.combination == .maximum, book.parameters.staticDiscount == nil,
              !(book.valuationFollowsUnderlying && deltaOneValue != 0) else { return nil }
        return exposure.withOptions(of: unit) { holdings -> ScenarioFigures? in
            var bound = abs(deltaOneNotional) * table.expectedShortfall[table.deltaOneEntry(notional: deltaOneNotional)]
            for holding in holdings {
                bound += abs(holding.quantity) * table.expectedShortfall[table.optionEntry(slot: holding.slot, quantity: holding.quantity)]
            }
            return book.withAggregationScratch { total, bucket -> ScenarioFigures? in
                let (value, basis) = ScenarioAggregation.aggregate(book: book, holdings: holdings, deltaOneNotional: deltaOneNotional,
                                                                   deltaOneValue: deltaOneValue, gridOnly: true, total: total, bucket: bucket)
                let worst = ScenarioAggregation.worstGrid(total, book: book, floor: basis).value
                guard bound <= max(0, -worst) else { return nil }
                return ScenarioFigures(optionValue: value, basis: basis, worst: worst, jointTail: .atMost(bound))
            }
        }
    }
}
