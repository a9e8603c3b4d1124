extension MarginCalculator {
    /// Units whose books and figures ``summary(_:books:markets:)`` keeps in constant-size stack
    /// scratch; accounts on more underlyings take variable-size scratch.
    static let stackUnits = 8

    /// Requirements, equities and health without the explanation: the hot path re-run on every tick.
    /// Formats no text, looks each unit's book up once, and allocates nothing for accounts on up to
    /// ``stackUnits`` underlyings (a joint scenario set's columns take stack scratch of their own).
    public func summary(_ exposure: AccountExposure, books: [String: RiskBook], markets: MarketState) throws(MarginError) -> MarginSummary {
        let balances = try valueBalances(exposure, markets: markets, detailed: false)
        let pegAddOn = parameters.stablecoinPeg?.initialFactorAddOn(valuationPrice: valuationPrice(in: markets)) ?? 0
        let count = exposure.units.count
        func run(_ unitBooks: UnsafeMutableBufferPointer<Unmanaged<RiskBook>>, _ risks: UnsafeMutableBufferPointer<UnitRisk>) throws(MarginError) -> UnitTotals {
            let layout = try riskLayout(exposure, books: books, resolved: unitBooks)
            if layout.size == 0 {
                return try unitTotals(exposure, unitBooks: unitBooks, risks: risks, markets: markets, pegAddOn: pegAddOn, joint: nil,
                                      layout: layout, initial: balances.confidenceCharge)
            }
            return try withJointScratch(layout) { (joint) throws(MarginError) in
                try unitTotals(exposure, unitBooks: unitBooks, risks: risks, markets: markets, pegAddOn: pegAddOn, joint: joint,
                               layout: layout, initial: balances.confidenceCharge)
            }
        }
        let totals: UnitTotals
        if count <= Self.stackUnits {
            // Constant capacities: plain stack space, no runtime stack check.
            totals = try withUnsafeTemporaryAllocation(of: Unmanaged<RiskBook>.self, capacity: Self.stackUnits) { (unitBooks) throws(MarginError) in
                try withUnsafeTemporaryAllocation(of: UnitRisk.self, capacity: Self.stackUnits) { (risks) throws(MarginError) in
                    try run(UnsafeMutableBufferPointer(rebasing: unitBooks[0..<count]), UnsafeMutableBufferPointer(rebasing: risks[0..<count]))
                }
            }
        } else {
            totals = try withUnsafeTemporaryAllocation(of: Unmanaged<RiskBook>.self, capacity: count) { (unitBooks) throws(MarginError) in
                try withUnsafeTemporaryAllocation(of: UnitRisk.self, capacity: count) { (risks) throws(MarginError) in try run(unitBooks, risks) }
            }
        }
        let gross = balances.grossValue + totals.positionsValue
        let equity = gross - balances.maintenanceHaircut
        let initialEquity = gross - balances.initialHaircut
        var initial = totals.initial
        if !exposure.orderFills.isEmpty {
            initial += try orderMargin(exposure, initialRequirement: initial, initialEquity: initialEquity, books: books, markets: markets,
                                       explain: false).total
        }
        return MarginSummary(
            grossEquity: gross, equity: equity, initialEquity: initialEquity,
            maintenanceRequirement: totals.maintenance, initialRequirement: initial,
            health: MarginSummary.health(equity: equity, initialEquity: initialEquity, maintenance: totals.maintenance, initial: initial)
        )
    }

    /// Sums over an account's units (valuation units).
    struct UnitTotals {
        var maintenance = 0.0
        var initial = 0.0
        var positionsValue = 0.0
    }

    /// Evaluates every unit (its book resolved in `unitBooks`, which the caller's book dictionary
    /// keeps alive) into `risks`, combines them at account level, allocates the risk loss and sums
    /// the requirements (`initial` starts from the given account-level charge).
    func unitTotals(_ exposure: AccountExposure, unitBooks: UnsafeMutableBufferPointer<Unmanaged<RiskBook>>,
                    risks: UnsafeMutableBufferPointer<UnitRisk>, markets: MarketState, pegAddOn: Double,
                    joint: UnsafeMutableBufferPointer<Double>?, layout: AccountRiskLayout, initial: Double) throws(MarginError) -> UnitTotals {
        // Units borrowed in place (an array subscript would copy each unit and retain its arrays).
        try exposure.units.withUnsafeBufferPointer { (units) throws(MarginError) in
            for index in risks.indices {
                let risk = try evaluate(units[index], of: exposure, book: unitBooks[index].takeUnretainedValue(),
                                        markets: markets, pegAddOn: pegAddOn, joint: joint, layout: layout, details: nil)
                risks.initializeElement(at: index, to: risk)
            }
        }
        // Without joint columns the risk loss is the plain grid sum (as ``combine(_:joint:layout:explain:)`` finds it).
        let riskLoss: Double
        if joint == nil {
            var gridSum = 0.0
            for risk in risks { gridSum += risk.worstLoss }
            riskLoss = gridSum
        } else {
            riskLoss = combine(UnsafeBufferPointer(risks), joint: joint, layout: layout, explain: false).riskLoss
        }
        allocate(riskLoss, to: risks)
        var totals = UnitTotals(initial: initial)
        for risk in risks {
            totals.maintenance += risk.maintenanceRequirement
            totals.initial += risk.initialRequirement
            totals.positionsValue += risk.positionsValue
        }
        return totals
    }
}

extension MarginCalculator {
    /// Where an account's figures come from, as ``explain(_:books:markets:)`` reports them: the
    /// latest of its books' times (`as_of_ms`) and each unit's market snapshot time. With
    /// ``summary(_:books:markets:)`` this is a summary result's content.
    public func provenance(_ exposure: AccountExposure, books: [String: RiskBook]) throws(MarginError) -> (asOfMs: Int64, marketTimestamps: [String: Int64]) {
        var asOf: Int64 = 0
        var timestamps: [String: Int64] = [:]
        for unit in exposure.units {
            guard let book = books[unit.underlying] else { throw .missingMarket(underlying: unit.underlying) }
            asOf = max(asOf, book.asOfMs)
            timestamps[unit.underlying] = max(timestamps[unit.underlying] ?? .min, book.market.timestampMs)
        }
        return (asOf, timestamps)
    }
}
