import KafkaClient
import MarginCore
import MarginSchema

/// The data every instance reads whole: instrument definitions, market snapshots and parameter
/// sets, with the risk books built from them. Not thread-safe: owned by the engine actor.
struct ReferenceData {
    var catalog = InstrumentCatalog()
    var markets = MarketState()
    var parameterSets: [String: RiskParameters] = [:]
    /// Risk books per underlying for the active parameter set and current markets.
    var books: [String: RiskBook] = [:]

    enum Change {
        case instruments
        case market(String)
        case parameters
        case none
    }

    /// Applies one record of a reference topic; throws a `MarginError` for invalid input
    /// (which then changes nothing). A market snapshot dated more than `maxClockSkewMs` after
    /// `nowMs` is invalid: held, it would make every current snapshot look older and be ignored.
    mutating func apply(_ message: KafkaMessage, topics: TopicNames, nowMs: Int64,
                        maxClockSkewMs: Int64, bounds: InputBounds = .standard) throws(MarginError) -> Change {
        let format = SchemaCoding.Format(contentType: message.header("content-type"))
        guard let key = message.key.map({ String(decoding: $0, as: UTF8.self) }), !key.isEmpty else {
            throw .invalidInput(field: "key", reason: "records of \(message.topic) need a key")
        }
        switch message.topic {
        case topics.instruments:
            guard let value = message.value else {
                catalog.remove(key)
                return .instruments
            }
            let instrument = try Instrument(proto: SchemaCoding.decode(Margin_V1_Instrument.self, from: value, format: format))
            guard instrument.name == key else { throw .invalidInput(field: "instrument.name", reason: "'\(instrument.name)' does not match key '\(key)'") }
            try instrument.checkBounds(bounds)
            catalog.insert(instrument)
            return .instruments
        case topics.market:
            guard let value = message.value else {
                markets[key] = nil
                books[key] = nil
                return .market(key)
            }
            let market = try UnderlyingMarket(proto: SchemaCoding.decode(Margin_V1_MarketSnapshot.self, from: value, format: format))
            guard market.underlying == key else { throw .invalidInput(field: "market.underlying", reason: "'\(market.underlying)' does not match key '\(key)'") }
            try market.checkBounds(bounds)
            let (latest, overflow) = nowMs.addingReportingOverflow(maxClockSkewMs)
            if !overflow, market.timestampMs > latest {
                // The text names no clock reading: a replay of this dead letter carries the same content.
                throw .invalidInput(field: "market.timestamp_ms",
                                    reason: "\(market.timestampMs) lies in the future, beyond max_clock_skew_ms (\(maxClockSkewMs) ms) of the worker's clock")
            }
            if let previous = markets[key], market.timestampMs < previous.timestampMs {
                return .none // an older snapshot than the one held: ignored
            }
            markets[key] = market
            return .market(key)
        case topics.params:
            guard let value = message.value else {
                parameterSets[key] = nil
                return .parameters
            }
            let parameters = try RiskParameters(proto: SchemaCoding.decode(Margin_V1_RiskParameters.self, from: value, format: format))
            guard parameters.id == key else { throw .invalidInput(field: "params.id", reason: "'\(parameters.id)' does not match key '\(key)'") }
            if let previous = parameterSets[key], parameters.version < previous.version { return .none }
            parameterSets[key] = parameters
            return .parameters
        default:
            return .none
        }
    }

    /// The active parameter set: from the params topic, else `fallback` (the shipped preset of
    /// that id, loaded once by the engine).
    func parameters(id: String, fallback: RiskParameters?) -> RiskParameters? {
        parameterSets[id] ?? fallback
    }
}
