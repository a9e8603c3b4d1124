import MarginCore

/// Why a liquidatable account got no instruction in the last planning window.
public enum WaitingReason: Sendable, Hashable {
    /// The anti-cascade budget of its instruments or underlyings is used up this window.
    case budget
    /// These instruments have neither displayed depth nor volume, and `liquidation.no_book_cap` is 0.
    case noDepth([String])
    /// The plan could not be computed.
    case planError(String)

    /// The `reason` label of `margin_liquidation_waiting` and of the HTTP answer.
    public var code: String {
        switch self {
        case .budget: return "budget"
        case .noDepth: return "no_depth"
        case .planError: return "plan_error"
        }
    }

    public var detail: String {
        switch self {
        case .budget: return "anti-cascade budget used up this window"
        case .noDepth(let instruments): return "no displayed depth or volume and no liquidation.no_book_cap: \(instruments.joined(separator: ", "))"
        case .planError(let error): return error
        }
    }

    public static let allCodes = ["budget", "no_depth", "plan_error"]
}

/// Where an account stands in liquidation, as this instance sees it (`liquidation` of the
/// `GET /v1/accounts/{id}` answer).
public enum LiquidationStatus: Sendable, Equatable {
    /// Not liquidatable.
    case none
    /// Liquidatable, planned at the next window.
    case pending
    /// A live instruction waits for fills or its deadline (`Int64.max`: none).
    case outstanding(instructionID: String, deadlineMs: Int64)
    /// Liquidatable and not instructed in the last window, for this reason.
    case waiting(WaitingReason)

    /// Why it waits (nil unless ``waiting(_:)``).
    public var waitingReason: WaitingReason? {
        if case .waiting(let reason) = self { reason } else { nil }
    }
}

extension LiquidationCoordinator {
    /// Where an account stands: its live instruction, the reason it waits, or nothing.
    func status(of key: AccountKey, health: HealthState?) -> LiquidationStatus {
        if let state = outstanding[key.id], state.isLive { return .outstanding(instructionID: state.id, deadlineMs: state.deadlineMs) }
        if let reason = waiting[key] { return .waiting(reason) }
        return health == .liquidatable || health == .bankrupt ? .pending : .none
    }

    /// Waiting accounts per reason code (every code present, 0 when none).
    var waitingByReason: [String: Int] {
        var counts = Dictionary(uniqueKeysWithValues: WaitingReason.allCodes.map { ($0, 0) })
        for reason in waiting.values { counts[reason.code, default: 0] += 1 }
        return counts
    }
}
