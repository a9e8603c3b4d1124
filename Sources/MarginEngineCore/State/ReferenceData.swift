import MarginCore

/// The data every instance reads whole: instrument definitions, market snapshots and parameter
/// sets, with the risk books built from them: what the calculator and the liquidation planner
/// read. Not thread-safe: owned by the engine (through ``ReferenceStore``).
package struct ReferenceData: Sendable {
    package var catalog = InstrumentCatalog()
    package var markets = MarketState()
    var parameterSets: [String: RiskParameters] = [:]
    /// Risk books per underlying for the active parameter set and current markets.
    package var riskBooks: [String: RiskBook] = [:]

    package init(catalog: InstrumentCatalog = InstrumentCatalog(), markets: MarketState = MarketState(),
                 riskBooks: [String: RiskBook] = [:]) {
        self.catalog = catalog
        self.markets = markets
        self.riskBooks = riskBooks
    }

    /// What a reference record changed.
    enum Change: Equatable {
        case instruments
        case market(String)
        case parameters
        case none
    }

    /// Applies one decoded reference record; throws a `MarginError` for invalid input (which then
    /// changes nothing). A market snapshot dated more than `maxClockSkewMs` after `nowMs` is
    /// invalid: held, it would make every current snapshot look older and be ignored. A snapshot
    /// older than the one held, or a parameter set of a lower version, is ignored.
    mutating func apply(_ input: ReferenceInput, nowMs: Int64, maxClockSkewMs: Int64) throws(MarginError) -> Change {
        switch input {
        case .instrument(let key, nil):
            catalog.remove(key)
            return .instruments
        case .instrument(_, let instrument?):
            catalog.insert(instrument)
            return .instruments
        case .market(let key, nil):
            markets[key] = nil
            riskBooks[key] = nil
            return .market(key)
        case .market(let key, let market?):
            let (latest, overflow) = nowMs.addingReportingOverflow(maxClockSkewMs)
            if !overflow, market.timestampMs > latest {
                // The text names no clock reading: a replay of this dead letter carries the same content.
                throw .invalidInput(field: "market.timestamp_ms",
                                    reason: "\(market.timestampMs) lies in the future, beyond max_clock_skew_ms (\(maxClockSkewMs) ms) of the worker's clock")
            }
            if let previous = markets[key], market.timestampMs < previous.timestampMs { return .none }
            markets[key] = market
            return .market(key)
        case .parameters(let key, nil):
            parameterSets[key] = nil
            return .parameters
        case .parameters(let key, let parameters?):
            if let previous = parameterSets[key], parameters.version < previous.version { return .none }
            parameterSets[key] = parameters
            return .parameters
        }
    }
}
