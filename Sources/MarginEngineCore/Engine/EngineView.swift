import MarginCore
import Synchronization

/// What the engine last published for readers that must not wait for it: the status, readiness,
/// the reference data a what-if margins against, the held accounts and the liquidation state. The
/// engine swaps in a new snapshot after each step (a window's tick, a reference record, a shard
/// assigned, restored or revoked); HTTP reads it without awaiting the actor, so a pass never
/// delays `/ready`, `/metrics`, an account query, a pre-trade check, a what-if or the console.
///
/// Account records do not publish one each (that would cost the ingest): a new version shows from
/// the end of the coalescing window that stored it. The accounts and the coordinator are value
/// types shared copy-on-write with the engine, so taking a snapshot copies nothing until the
/// engine next changes a shard.
public struct EngineSnapshot: Sendable {
    public var status: WorkerStatus
    public var isReady: Bool
    /// The active parameter set's calculator, its books and the markets and instruments (nil
    /// calculator: no parameter set yet).
    var calculator: MarginCalculator?
    var parameters: RiskParameters?
    var reference: ReferenceData
    var accounts: AccountShards
    var liquidation: LiquidationCoordinator
    var inputBounds: InputBounds
    var paramsID: String
    var instanceID: String
    /// The engine's clock when the snapshot was taken (Unix epoch ms).
    var nowMs: Int64

    /// When the valuations of this snapshot are as of: the newest market snapshot's time, or the
    /// clock when no market has arrived yet (Unix epoch ms).
    var asOfMs: Int64 { reference.markets.underlyings.values.map(\.timestampMs).max() ?? nowMs }

    /// Margin of a posted account against the snapshot's markets and risk books (nothing is
    /// stored): books of the underlyings the engine holds are reused, others are built.
    public func whatIf(_ account: Account) throws(MarginError) -> MarginResult {
        guard let calculator else { throw .missingParameters(underlying: paramsID) }
        try account.validate(instruments: reference.catalog, bounds: inputBounds)
        return try calculator.margin(account: account, catalog: reference.catalog, markets: reference.markets, asOfMs: asOfMs,
                                     reusing: reference.riskBooks)
    }
}

/// The engine's published ``EngineSnapshot``: swapped under a lock, read by copy.
public final class EngineView: Sendable {
    private let current: Mutex<EngineSnapshot?>

    init() { current = Mutex(nil) }

    /// The latest snapshot; nil until the engine has published one.
    public var snapshot: EngineSnapshot? { current.withLock { $0 } }

    /// Swaps in `snapshot`. The previous one is released after the lock: the last reference to the
    /// shard tables the engine has since copied frees every entry in them, milliseconds of work at
    /// tens of thousands of accounts that readers must not wait for.
    func publish(_ snapshot: EngineSnapshot) {
        let previous = current.withLock { current in
            defer { current = snapshot }
            return current
        }
        withExtendedLifetime(previous) {}
    }
}
