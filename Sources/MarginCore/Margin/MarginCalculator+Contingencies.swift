/// A risk unit's contingencies: percentages of naked short option and delta-one notional, the
/// oracle-confidence charge, and the liquidity and concentration add-ons. Each is added to the
/// maintenance and/or initial requirement on top of `factor × worst scenario loss`.
extension MarginCalculator {
    /// The oracle-confidence charge of a unit, tallied leg by leg (``ConfidenceContingencyRule``): the
    /// delta-one legs at their own feed's confidence, the options per expiry. Detail text is
    /// formatted only when explaining.
    struct ConfidenceTally {
        let rule: ConfidenceContingencyRule?
        let explain: Bool
        private(set) var charge = 0.0
        private(set) var parts: [String] = []

        init(rule: ConfidenceContingencyRule?, explain: Bool) {
            self.rule = rule
            self.explain = explain
        }

        mutating func add(notional: Double, confidence: Double, detail: @autoclosure () -> String) {
            guard let rule else { return }
            let amount = rule.charge(confidence: confidence, notional: notional)
            guard amount > 0 else { return }
            charge += amount
            if explain { parts.append(detail()) }
        }
    }

    /// The unit's contingencies, in the order they are itemised: `short_option` (naked short units ×
    /// index, netted per strike when compiled), `delta_one_notional` (futures and perpetuals
    /// contract notional), `oracle_confidence` (initial only: the delta-one legs' tally plus the
    /// options' gross notional per expiry at min(perpetual, expiry) confidence), then the liquidity
    /// and concentration add-ons. Returns the sums; `details` receives each charge when explaining.
    func contingencies(_ unit: borrowing AccountExposure.UnitExposure, of exposure: AccountExposure, book: RiskBook,
                       legs: DeltaOneLegs, factors: (maintenance: Double, initial: Double), confidence: inout ConfidenceTally,
                       details: UnsafeMutablePointer<UnitEvaluation>?) throws(MarginError) -> (maintenance: Double, initial: Double) {
        let deltaOneContractNotional = legs.contractNotional
        let index = book.market.indexPrice
        if confidence.rule != nil {
            let perpetualConfidence = unit.holdsPerpetual ? min(book.market.indexConfidence, book.market.perpetualConfidence) : book.market.indexConfidence
            let terms = book.slotTerms
            exposure.withOptions(of: unit) { holdings in
                RiskBook.forEachExpiryRun(holdings, expiry: { book.expiryIndex(ofSlot: $0) }) { run, group in
                    var grossQuantity = 0.0
                    for holding in holdings[run] { grossQuantity += abs(holding.quantity) * terms[holding.slot].contractSize }
                    let expiry = book.expiries[group]
                    let level = min(perpetualConfidence, expiry.confidence)
                    let notional = grossQuantity * index
                    confidence.add(notional: notional, confidence: level,
                                   detail: "options expiring \(expiry.expiryMs) notional \(formatAmount(notional)) at confidence \(formatAmount(level))")
                }
            }
        }

        var maintenance = 0.0, initial = 0.0
        /// A percentage contingency on `notional`; its detail text is formatted only when explaining.
        func percent(_ rule: PercentContingency?, on notional: Double, name: String, detail: @autoclosure () -> String) {
            guard let rule, notional > 0 else { return }
            let m = notional * rule.maintenance, i = notional * rule.initial
            maintenance += m
            initial += i
            details?.pointee.contingencies.append(ContingencyCharge(name: name, maintenance: m, initial: i, detail: detail()))
        }
        percent(book.parameters.shortOptionContingency, on: unit.nakedShortUnits * index, name: "short_option",
                detail: "\(formatAmount(unit.nakedShortUnits)) naked short units × index \(formatAmount(index))")
        percent(book.parameters.deltaOneContingency, on: deltaOneContractNotional, name: "delta_one_notional",
                detail: "futures and perpetuals notional \(formatAmount(deltaOneContractNotional))")
        /// A risk-matrix term (roll or delta shock): charged through the unit's factors, like the worst case.
        func riskMatrix(_ amount: Double, name: String, detail: @autoclosure () -> String) {
            guard amount > 0 else { return }
            maintenance += factors.maintenance * amount
            initial += factors.initial * amount
            details?.pointee.contingencies.append(ContingencyCharge(
                name: name, maintenance: factors.maintenance * amount, initial: factors.initial * amount, detail: detail()))
        }
        riskMatrix(legs.rollShock, name: "roll_shock",
                   detail: "\(formatAmount(legs.rollShock)) = Σ |size| × index × max(annualised move × years, minimum): \(legs.rollParts.joined(separator: " + "))")
        if let rule = book.parameters.deltaShock {
            let delta = deltaNotional(unit, of: exposure, book: book, legs: legs)
            let charge = rule.charge(deltaNotional: delta) / book.valuationPrice
            riskMatrix(charge, name: "delta_shock",
                       detail: "net delta \(formatAmount(delta)) USD beyond \(formatAmount(rule.liquidityThreshold)): \(formatAmount(charge)) (max shock \(formatAmount(rule.maxShock)))")
        }
        if confidence.charge > 0 {
            initial += confidence.charge
            details?.pointee.contingencies.append(ContingencyCharge(
                name: "oracle_confidence", maintenance: 0, initial: confidence.charge, detail: confidence.parts.joined(separator: "; ")))
        }
        if book.parameters.liquidityAddOn != nil || book.parameters.concentrationAddOn != nil {
            let addOns = try liquidityAddOns(unit, of: exposure, book: book, explain: details != nil)
            for charge in addOns.charges {
                maintenance += charge.maintenance
                initial += charge.initial
            }
            if let details {
                details.pointee.contingencies += addOns.charges
                details.pointee.liquidityAddOns = addOns.lines
            }
        }
        return (maintenance, initial)
    }

    /// The unit's net delta notional in USD: futures, perpetuals and linked balances at their
    /// scenario notional, options at their Black-76 deltas (``RiskBook/slotDeltas``), at the index.
    func deltaNotional(_ unit: borrowing AccountExposure.UnitExposure, of exposure: AccountExposure, book: RiskBook,
                       legs: DeltaOneLegs) -> Double {
        var optionUnits = 0.0
        let deltas = book.slotDeltas
        if !deltas.isEmpty {
            exposure.withOptions(of: unit) { holdings in
                for holding in holdings { optionUnits += holding.quantity * deltas[holding.slot] }
            }
        }
        return legs.notional * book.valuationPrice + optionUnits * book.market.indexPrice
    }
}
