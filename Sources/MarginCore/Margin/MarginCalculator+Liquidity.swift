extension MarginCalculator {
    /// The liquidity and concentration add-ons of one unit (``LiquidityAddOnRule``,
    /// ``ConcentrationAddOnRule``): the two contingency charges (only those above 0) and, when
    /// `explain`, one line per instrument with the inputs used. Off unless the unit's parameters
    /// enable them.
    func liquidityAddOns(_ unit: AccountExposure.UnitExposure, of exposure: AccountExposure, book: RiskBook,
                         explain: Bool) throws(MarginError) -> (charges: [ContingencyCharge], lines: [LiquidityAddOn]) {
        let rules = book.parameters
        let liquidity = rules.liquidityAddOn
        let concentration = rules.concentrationAddOn
        guard liquidity != nil || concentration != nil else { return ([], []) }
        let model = rules.liquidityCost ?? .standard
        var liquidityTotal = 0.0, concentrationTotal = 0.0
        var lines: [LiquidityAddOn] = []
        var charged = 0

        func terms(_ instrument: Instrument) throws(MarginError) -> InstrumentLiquidity {
            try InstrumentLiquidity(instrument: instrument, market: book.market, riskBook: book, valuationPrice: book.valuationPrice,
                                    nowMs: book.asOfMs, fallbackVolatility: model.fallbackVolatility)
        }
        /// Charges one position: its own close-out (unless netted elsewhere) and its concentration.
        func charge(_ instrument: Instrument, quantity: Double, terms: InstrumentLiquidity, standaloneLoss: Double,
                    closeOut: CloseCost?, nettedInto: String?) {
            var line = LiquidityAddOn(instrument: instrument.name, quantity: quantity)
            if let closeOut {
                liquidityTotal += closeOut.total
                line.liquidityInitial = closeOut.total
                line.liquidityMaintenance = closeOut.total * (liquidity?.maintenanceFraction ?? 0)
                if closeOut.total > 0 { charged += 1 }
            }
            if let concentration {
                let size = abs(quantity)
                let notional = size * terms.deltaNotional
                let threshold = concentration.threshold(openInterest: terms.book?.openInterest, volume: terms.book?.volume24h)
                line.concentrationThreshold = threshold
                line.notional = notional
                line.standaloneLoss = standaloneLoss
                if let threshold, notional > 0 {
                    let base = standaloneLoss / notional
                    let rate = concentration.rate(quantity: size, threshold: threshold, base: base,
                                                  underlyingUnits: terms.underlyingUnits * terms.absoluteDelta)
                    var addOn = notional * max(0, rate - base)
                    // A long option cannot lose more than its value.
                    if case .option = instrument.kind, quantity > 0 { addOn = min(addOn, max(0, size * terms.value - standaloneLoss)) }
                    concentrationTotal += addOn
                    line.baseRate = base
                    line.concentratedRate = max(rate, base)
                    line.concentrationInitial = addOn
                    line.concentrationMaintenance = addOn * concentration.maintenanceFraction
                }
            }
            guard explain else { return }
            line.closeCost = closeOut
            line.nettedInto = nettedInto
            line.dailyVolatility = terms.dailyVolatility
            line.volume24h = terms.book?.volume24h
            line.openInterest = terms.book?.openInterest
            lines.append(line)
        }

        for holding in exposure.options(of: unit) {
            let instrument = book.instruments[holding.slot]
            let contract = try terms(instrument)
            let closeOut = liquidity.map { _ in
                model.closeCost(abs(holding.quantity), side: .closing(quantity: holding.quantity), terms: contract)
            }
            let loss = concentration == nil ? 0 : optionStandaloneLoss(slot: holding.slot, quantity: holding.quantity, book: book)
            charge(instrument, quantity: holding.quantity, terms: contract, standaloneLoss: loss, closeOut: closeOut, nettedInto: nil)
        }

        // Futures and perpetuals, netted in underlying units when the rule says so.
        let positions = exposure.account.positions
        var legs: [(instrument: Instrument, quantity: Double, terms: InstrumentLiquidity, notional: Double)] = []
        legs.reserveCapacity(unit.deltaOne.count)
        for positionIndex in exposure.deltaOne(of: unit) {
            let position = positions[positionIndex]
            guard let instrument = exposure.instruments[position.instrument] else { throw .unknownInstrument(position.instrument) }
            let (notional, _, _) = try deltaOne(position, instrument: instrument, book: book)
            legs.append((instrument, position.quantity, try terms(instrument), notional))
        }
        var netted: (index: Int, quantity: Double)?
        if liquidity?.netDeltaOneAcrossExpiries == true, legs.count > 1 {
            let units = legs.reduce(0.0) { $0 + $1.quantity * $1.terms.underlyingUnits }
            let side = BookSide.closing(quantity: units)
            var best = 0
            func rank(_ entry: (instrument: Instrument, quantity: Double, terms: InstrumentLiquidity, notional: Double)) -> (Double, Double) {
                (entry.terms.book?.volume24h ?? 0, entry.terms.book?.depth(side) ?? 0)
            }
            for index in 1..<legs.count {
                let (a, b) = (rank(legs[index]), rank(legs[best]))
                if a > b || (a == b && legs[index].instrument.name < legs[best].instrument.name) { best = index }
            }
            netted = (best, units / legs[best].terms.underlyingUnits)
        }
        for (index, entry) in legs.enumerated() {
            var closeOut: CloseCost?
            var into: String?
            if liquidity != nil {
                if let netted {
                    if index == netted.index {
                        closeOut = model.closeCost(abs(netted.quantity), side: .closing(quantity: netted.quantity), terms: entry.terms)
                    } else {
                        into = legs[netted.index].instrument.name
                    }
                } else {
                    closeOut = model.closeCost(abs(entry.quantity), side: .closing(quantity: entry.quantity), terms: entry.terms)
                }
            }
            let loss = concentration == nil ? 0 : deltaOneStandaloneLoss(notional: entry.notional, book: book)
            charge(entry.instrument, quantity: entry.quantity, terms: entry.terms, standaloneLoss: loss, closeOut: closeOut, nettedInto: into)
        }

        var charges: [ContingencyCharge] = []
        if let liquidity, liquidityTotal > 0 {
            let detail = explain ? "close-out cost of \(charged) position(s) from the book: displayed levels, then \(model.impact.name) impact over \(formatAmount(model.horizonDays)) d; MM \(formatAmount(liquidity.maintenanceFraction)) of IM" : ""
            charges.append(ContingencyCharge(name: "liquidity", maintenance: liquidityTotal * liquidity.maintenanceFraction,
                                             initial: liquidityTotal, detail: detail))
        }
        if let concentration, concentrationTotal > 0 {
            let over = lines.filter { $0.concentrationInitial > 0 }.map { "\($0.instrument) \(formatAmount(abs($0.quantity))) > \(formatAmount($0.concentrationThreshold ?? 0))" }
            let detail = explain ? "\(concentration.shape.name) above the threshold: \(over.joined(separator: ", ")); MM \(formatAmount(concentration.maintenanceFraction)) of IM" : ""
            charges.append(ContingencyCharge(name: "concentration", maintenance: concentrationTotal * concentration.maintenanceFraction,
                                             initial: concentrationTotal, detail: detail))
        }
        return (charges, lines)
    }

    /// An option position's own worst grid loss (≥ 0): `−min_s q·(v_s − v_0)·dampening_s`, skew
    /// scenarios counted as losses whatever their sign, after the book's extended dampener; no
    /// static discount.
    func optionStandaloneLoss(slot: Int, quantity: Double, book: RiskBook) -> Double {
        let current = book.currentValue(slot: slot)
        var worst = 0.0
        for column in 0..<book.gridScenarioCount {
            let scenario = book.scenarios[column]
            var pnl = quantity * (book.scenarioValue(slot: slot, scenario: column) - current) * scenario.dampening
            if scenario.volatilityShock.isSkew { pnl = -abs(pnl) }
            worst = min(worst, book.adjustment.adjusted(pnl, tail: scenario.kind == .tail))
        }
        return -worst
    }

    /// A future's or perpetual's own worst grid loss (≥ 0): `−min_s notional·move_s` with the
    /// book's delta-one moves (``RiskBook/deltaOneMoves(column:)``, dampening included), after the
    /// book's extended dampener.
    func deltaOneStandaloneLoss(notional: Double, book: RiskBook) -> Double {
        var worst = 0.0
        for column in 0..<book.gridScenarioCount {
            let pnl = notional * book.deltaOneMoves(column: column).notional
            worst = min(worst, book.adjustment.adjusted(pnl, tail: book.scenarios[column].kind == .tail))
        }
        return -worst
    }
}
