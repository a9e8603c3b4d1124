import MarginCore

/// What the coordinator decided in a window, for the engine to encode and publish (in order):
/// each action is an instruction or cancel message plus its liquidation-state record, applied to
/// the coordinator's outstanding state once its batch commits (``commit``).
public enum LiquidationAction: Sendable {
    /// Publish `plan` as instruction `state.id` (round `state.round`); `supersedes` names the live
    /// instruction it voids (or is empty); `publishedDeadlineMs` 0 means nothing to execute.
    case instruct(plan: LiquidationPlan, state: OutstandingInstruction, parameterSetVersion: Int64, supersedes: String,
                  publishedDeadlineMs: Int64)
    /// Publish the cancel of the instruction `state` (already marked cancelled).
    case cancel(state: OutstandingInstruction, parameterSetVersion: Int64)

    public var state: OutstandingInstruction {
        switch self {
        case .instruct(_, let state, _, _, _), .cancel(let state, _): state
        }
    }

    /// The state change applied once the action's batch is committed.
    package var commit: LiquidationCommit {
        switch self {
        case .instruct(_, let state, _, _, _): LiquidationCommit(accountID: state.accountID, state: state, isInstruction: true)
        case .cancel(let state, _): LiquidationCommit(accountID: state.accountID, state: state, isInstruction: false)
        }
    }
}

/// What the coordinator reads to plan a window: a narrow view of the engine's state.
package struct LiquidationContext {
    var calculator: MarginCalculator
    var reference: ReferenceData
    /// Whether an underlying's market is stale (no liquidation acts on stale prices).
    var isStale: (String) -> Bool
    /// Whether a partition's shard is serving (restored, not being revoked).
    var isServing: (Int32) -> Bool

    package init(calculator: MarginCalculator, reference: ReferenceData, isStale: @escaping (String) -> Bool,
                 isServing: @escaping (Int32) -> Bool) {
        self.calculator = calculator
        self.reference = reference
        self.isStale = isStale
        self.isServing = isServing
    }
}
