import MarginCore
import Synchronization

/// What the engine last published for readers that must not wait for it: the status, readiness and
/// the reference data a what-if margins against. The engine swaps in a new snapshot after each step
/// (a tick, a reference record, a shard assigned, restored or revoked); HTTP reads it without
/// awaiting the actor, so a pass never delays `/ready`, `/metrics` or a what-if.
public struct EngineSnapshot: Sendable {
    public var status: WorkerStatus
    public var isReady: Bool
    /// The active parameter set's calculator, its books and the markets and instruments (nil
    /// calculator: no parameter set yet).
    var calculator: MarginCalculator?
    var reference: ReferenceData
    var inputBounds: InputBounds
    var paramsID: String
    /// The engine's clock when no market has arrived yet (Unix epoch ms).
    var nowMs: Int64

    /// Margin of a posted account against the snapshot's markets and risk books (nothing is
    /// stored): books of the underlyings the engine holds are reused, others are built.
    public func whatIf(_ account: Account) throws(MarginError) -> MarginResult {
        guard let calculator else { throw .missingParameters(underlying: paramsID) }
        let data = reference
        try account.validate(instruments: data.catalog, bounds: inputBounds)
        let asOf = data.markets.underlyings.values.map(\.timestampMs).max() ?? nowMs
        return try calculator.margin(account: account, catalog: data.catalog, markets: data.markets, asOfMs: asOf, reusing: data.riskBooks)
    }
}

/// The engine's published ``EngineSnapshot``: swapped under a lock, read by copy.
public final class EngineView: Sendable {
    private let current: Mutex<EngineSnapshot?>

    init() { current = Mutex(nil) }

    /// The latest snapshot; nil until the engine has published one.
    public var snapshot: EngineSnapshot? { current.withLock { $0 } }

    func publish(_ snapshot: EngineSnapshot) { current.withLock { $0 = snapshot } }
}
