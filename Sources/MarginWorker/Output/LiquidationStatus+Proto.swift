import MarginEngineCore
import MarginSchema

extension LiquidationStatus {
    /// The wire form (`margin.v1.LiquidationStatus`): `state` none, pending, outstanding (with the
    /// instruction id and deadline, 0 for none) or waiting (with the reason code and detail).
    public var proto: Margin_V1_LiquidationStatus {
        var status = Margin_V1_LiquidationStatus()
        switch self {
        case .none:
            status.state = "none"
        case .pending:
            status.state = "pending"
        case .outstanding(let id, let deadlineMs):
            status.state = "outstanding"
            status.instructionID = id
            status.deadlineMs = deadlineMs == .max ? 0 : deadlineMs
        case .waiting(let reason):
            status.state = "waiting"
            status.reason = reason.code
            status.detail = reason.detail
        }
        return status
    }
}
