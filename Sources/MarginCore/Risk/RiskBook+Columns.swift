/// What a risk book's columns and rows are: moves, labels, values and row access.
extension RiskBook {
    /// How a delta-one exposure moves in `column`, dampening included: its PnL is
    /// `notional × moves.notional + value × moves.value` (valuation units; ``deltaOneMoves``).
    public func deltaOneMoves(column: Int) -> (notional: Double, value: Double) {
        (deltaOneMoves[column] * dampenings[column], valueMoves[column] * dampenings[column])
    }

    /// What a grid column is, for people: the scenario's label, marked when it is an edge of the
    /// standard range, and for a tail scenario whose delta-one exposures sit at an edge, that edge.
    public func columnLabel(_ column: Int) -> String {
        let scenario = scenarios[column]
        let range = regularRange
        switch scenario.kind {
        case .regular where !scenario.volatilityShock.isSkew && scenario.spotShock != 1
            && (scenario.spotShock == range.lowest || scenario.spotShock == range.highest):
            return "\(scenario.label) (standard-range edge)"
        case .tail:
            let shock = parameters.deltaOneShock(scenario, range: range)
            guard shock != scenario.spotShock else { return "\(scenario.label) (extended)" }
            return "\(scenario.label) (extended; delta-one at the \(Scenario(spotShock: shock, volatilityShock: .none).spotMoveText) edge)"
        default:
            return scenario.label
        }
    }

    /// The slot of an option instrument, if the book holds it.
    public func slot(of instrument: String) -> Int? { slotByName[instrument] }

    /// Value of one contract in the current market (valuation units).
    public func currentValue(slot: Int) -> Double { values[slot * stride + currentColumn] }

    /// Value of one contract under scenario `index` (valuation units, before any static discount).
    public func scenarioValue(slot: Int, scenario index: Int) -> Double { values[slot * stride + index] }

    /// The risk array of an option: PnL of one contract under every scenario (valuation units),
    /// `value(scenario) − value(now)`, before dampening and static discounting.
    public func riskArray(for instrument: String) -> [Double]? {
        guard let slot = slotByName[instrument] else { return nil }
        let base = values[slot * stride + currentColumn]
        return (0..<scenarioCount).map { values[slot * stride + $0] - base }
    }

    /// The expiry group of an option slot.
    public func expiryGroup(ofSlot slot: Int) -> ExpiryGroup { expiries[slotExpiry[slot]] }

    func expiryIndex(ofSlot slot: Int) -> Int { slotExpiry[slot] }

    /// Runs `body` with the contiguous row storage (`stride` doubles per slot, laid out as the type
    /// documents; valuation units per contract). Read-only: for aggregation kernels and baselines.
    @inline(__always)
    public func withRows<R>(_ body: (UnsafeBufferPointer<Double>) throws -> R) rethrows -> R {
        try values.withUnsafeBufferPointer(body)
    }
}
