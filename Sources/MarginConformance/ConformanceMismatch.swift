/// The first field on which a conformance case disagrees with the engine: expected and computed
/// values, or why nothing could be computed.
public struct ConformanceMismatch: Sendable {
    public var field: String
    public var expected: Double
    public var actual: Double?
    public var error: String?

    /// One line for people: `field: expected X, got Y` or `field: reason`.
    public var description: String {
        if let error { return "\(field): \(error)" }
        return "\(field): expected \(expected), got \(actual.map { "\($0)" } ?? "nothing")"
    }
}
