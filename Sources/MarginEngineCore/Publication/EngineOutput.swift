import MarginCore

/// A margin result the engine decided to publish, with its deterministic id. The adapter encodes
/// it (protobuf or JSON) and keys it by the account id.
public enum ResultOutput: Sendable {
    /// The explained result.
    case full(id: String, MarginResult)
    /// A market-driven republish's figures without the explanation (`summary_only`).
    case summary(id: String, account: Account, figures: MarginSummary, parameterSet: ParameterSetIdentity, asOfMs: Int64,
                 marketTimestamps: [String: Int64])
    /// An account that cannot be margined: identity, health `error` and the reason; no amounts and
    /// `as_of_ms` 0 (nothing was computed), so that its id names one content forever.
    case error(id: String, account: Account, parameterSet: ParameterSetIdentity, error: MarginError)

    public var id: String {
        switch self {
        case .full(let id, _), .summary(let id, _, _, _, _, _), .error(let id, _, _, _): return id
        }
    }
}

/// Which parameter set a result was computed with.
public struct ParameterSetIdentity: Sendable, Hashable {
    public var id: String
    public var version: Int64
    public var valuationAsset: String

    public init(id: String, version: Int64, valuationAsset: String) {
        self.id = id
        self.version = version
        self.valuationAsset = valuationAsset
    }
}

/// An input record refused with its reason: published to the dead-letter topic with the record's
/// bytes, under an id naming the source (topic, partition, offset).
public struct DeadLetter: Sendable {
    public var id: String
    public var source: RecordSource
    /// ``MarginError/code``, e.g. `invalid_input`.
    public var reason: String
    /// The error in words, naming the field.
    public var error: String

    public init(source: RecordSource, error: MarginError) {
        self.id = DeterministicID.make("dlq", [source.partition.topic, String(source.partition.partition), String(source.offset)])
        self.source = source
        self.reason = error.code
        self.error = error.description
    }
}

/// One thing the engine asks the adapter to publish, in order.
public enum EngineOutput: Sendable {
    /// A margin result on the results topic.
    case result(accountID: String, ResultOutput)
    /// A liquidation instruction or cancel, with its liquidation-state record.
    case liquidation(LiquidationAction)
    case deadLetter(DeadLetter)
}
