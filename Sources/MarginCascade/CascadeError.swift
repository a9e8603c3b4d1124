import MarginCore

/// Why a cascade run stopped: an account could not be margined, or planning could not use an
/// instrument or an account. A run never skips what it cannot compute.
public struct CascadeError: Error, CustomStringConvertible, Sendable {
    public let description: String

    init(_ description: String) {
        self.description = description
    }

    static func account(_ id: String, _ error: MarginError) -> CascadeError {
        CascadeError("account \(id) cannot be margined: \(error)")
    }
}
