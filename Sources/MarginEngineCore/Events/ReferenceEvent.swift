import MarginCore

/// What the reference consumer delivers (every instance reads the reference topics whole).
public enum ReferenceEvent: Sendable {
    /// One record: the decoded input, or why it could not be decoded (it is dead-lettered by the
    /// owner of accounts partition 0).
    case record(RecordSource, input: Result<ReferenceInput, MarginError>)
    case partitionEnd(InputPartition, next: Int64)
    case error(String)
}

/// A decoded record of a reference topic; `nil` payloads are tombstones of that key.
public enum ReferenceInput: Sendable {
    case instrument(key: String, Instrument?)
    case market(key: String, UnderlyingMarket?)
    case parameters(key: String, RiskParameters?)
}
