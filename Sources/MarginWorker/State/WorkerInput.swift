import MarginCore

/// A consumed record as the engine sees it: decoded into the model at the edge, so that the
/// engine's state (`State/`) never touches Kafka messages or generated protobuf types.
enum WorkerInput: Sendable {
    /// A record of a reference topic (read whole by every instance).
    case reference(ReferenceInput)
    /// An account's state, or its removal (a tombstone); `id` is the record's key. The account is
    /// decoded and its id checked against the key; it is validated against the catalog by the engine.
    case account(id: String, Account?)
    /// A topic this worker does not read.
    case unrelated
}

/// A decoded record of a reference topic; `nil` payloads are tombstones of that key.
enum ReferenceInput: Sendable {
    case instrument(key: String, Instrument?)
    case market(key: String, UnderlyingMarket?)
    case parameters(key: String, RiskParameters?)
}
