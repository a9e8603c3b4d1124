/// Why an input to the margin library was refused. Every case names the offending field so that a
/// caller (CLI, dead-letter publisher, HTTP handler) can report it in one line.
public enum MarginError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A value is malformed, non-finite, out of range or inconsistent.
    case invalidInput(field: String, reason: String)
    /// A position refers to an instrument that is not defined.
    case unknownInstrument(String)
    /// An instrument's underlying has no market snapshot.
    case missingMarket(underlying: String)
    /// An option or future expires at a time the market snapshot cannot price.
    case missingExpiry(underlying: String, expiryMs: Int64)
    /// No parameters apply to an underlying the account is exposed to.
    case missingParameters(underlying: String)
    /// A numerical routine could not produce a finite answer.
    case numerical(String)

    public var description: String {
        switch self {
        case .invalidInput(let field, let reason): return "invalid \(field): \(reason)"
        case .unknownInstrument(let name): return "unknown instrument \(name)"
        case .missingMarket(let underlying): return "no market for underlying \(underlying)"
        case .missingExpiry(let underlying, let expiry): return "market \(underlying) cannot price expiry \(expiry)"
        case .missingParameters(let underlying): return "no risk parameters for underlying \(underlying)"
        case .numerical(let what): return "numerical failure: \(what)"
        }
    }

    /// A short machine-readable reason code (used in dead-letter headers and JSON errors).
    public var code: String {
        switch self {
        case .invalidInput: return "invalid_input"
        case .unknownInstrument: return "unknown_instrument"
        case .missingMarket: return "missing_market"
        case .missingExpiry: return "missing_expiry"
        case .missingParameters: return "missing_parameters"
        case .numerical: return "numerical"
        }
    }
}

extension Double {
    /// Throws unless the value is finite.
    @inlinable
    func requireFinite(_ field: @autoclosure () -> String) throws(MarginError) -> Double {
        guard isFinite else { throw .invalidInput(field: field(), reason: "must be finite, got \(self)") }
        return self
    }

    /// Throws unless the value is finite and strictly positive (prices, sizes, forwards).
    @inlinable
    func requirePositive(_ field: @autoclosure () -> String) throws(MarginError) -> Double {
        guard isFinite, self > 0 else {
            throw .invalidInput(field: field(), reason: "must be a positive finite number, got \(self)")
        }
        return self
    }

    /// Throws unless the value lies in [0, 1] (confidences).
    @inlinable
    func requireUnitInterval(_ field: @autoclosure () -> String) throws(MarginError) -> Double {
        guard isFinite, self >= 0, self <= 1 else {
            throw .invalidInput(field: field(), reason: "must lie in [0, 1], got \(self)")
        }
        return self
    }
}
