import Foundation
import Logging
import MarginCore

/// The margin engine: routes domain inputs into its state, runs the tick and hands out the
/// outputs to publish. It knows accounts, markets and margins — no client library, no wire format:
/// the worker's adapter decodes records into ``AccountsEvent`` and ``ReferenceEvent`` and encodes
/// the ``OutputBatch`` it takes (``EngineOutput``).
///
/// An actor on a thread of its own: inputs and the coalescing ticker call into it in order; the
/// per-account margin computations of a pass run in parallel over shards. It never waits for I/O: the adapter reads
/// restore data before ``assignShards(_:)`` and publishes the batches it hands out. State lives in
/// ``ReferenceStore`` (reference data, books, staleness), ``AccountShards`` (accounts, versions,
/// exposure index), ``LiquidationCoordinator`` and the pending ``OutputBatch``; the lifecycle in
/// ``WorkerPhase``. See `docs/architecture.md`.
public actor MarginEngine {
    /// The engine's own thread (see ``DedicatedExecutor``): a pass never occupies Swift's
    /// cooperative pool, which HTTP and the Kafka adapters run on.
    nonisolated let executor = DedicatedExecutor(label: "margin.engine")
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    public let settings: EngineSettings
    /// What the engine last published for readers that must not wait for it (HTTP).
    public nonisolated let view = EngineView()
    let logger: Logger
    let metrics: WorkerMetrics
    let clock: @Sendable () -> Int64

    var phase = WorkerPhase()
    var reference: ReferenceStore
    var accounts = AccountShards()
    /// What was last committed per account (``PublishedResults``: outside the shards the snapshot shares).
    var published = PublishedResults()
    var liquidation: LiquidationCoordinator
    /// Outputs waiting for the next flush, and whether a batch handed out is not yet finished.
    var batch = OutputBatch()
    var batchInFlight = false
    /// Dead letters of reference records, published by the owner of accounts partition 0 (bounded:
    /// the oldest are dropped, with a log, beyond 10,000 on an instance that never owns it).
    var pendingReferenceDeadLetters: [DeadLetter] = []
    /// The catalog revision of the last full recompile: while the catalog is still at it, every
    /// compiled exposure is (accounts compile against the current catalog), so a market tick
    /// compiles only the accounts that have none.
    var fullyCompiledRevision: UInt64?
    /// The time up to which the periodic refresh has been scheduled (the last serving tick; 0 before the first).
    var refreshScheduledMs: Int64 = 0
    /// Windows run (``WorkerStatus/ticks``).
    var ticks = 0
    var latencies = LatencyWindow()
    /// The tick being timed (laps outside a tick go nowhere: the next tick starts afresh).
    var timing = TickProfile()
    /// Where the last tick spent its time (``TickProfile``).
    public private(set) var lastTickProfile = TickProfile()
    var maxQueued = 0
    /// Partitions of the accounts topic (all instances): this instance's budget share is the
    /// fraction it owns. Nil until known (then the share is 1).
    var accountsPartitionCount: Int?
    /// Whether the consumer group has given this instance its assignment (possibly empty) yet.
    var assignmentReceived = false

    /// `preset` is the shipped parameter set of `settings.paramsID`, used until the params topic
    /// delivers one (nil: every account waits for it with an error result `missing_parameters`).
    public init(settings: EngineSettings, preset: RiskParameters?, logger: Logger,
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.settings = settings
        self.logger = logger
        self.metrics = WorkerMetrics(instance: settings.instanceID)
        self.clock = clock
        self.reference = ReferenceStore(parametersID: settings.paramsID, preset: preset)
        self.liquidation = LiquidationCoordinator(settings: settings.liquidation)
    }

    var parameters: RiskParameters? { reference.parameters }
    var calculator: MarginCalculator? { reference.calculator }

    /// True once the reference topics are read up to their targets (the service then subscribes).
    public var referenceReady: Bool { phase.referenceRestored }

    /// Ready to serve: reference restored, every shard restored, no stale market.
    public var isReady: Bool {
        phase.isServing && assignmentReceived && accounts.shards.values.allSatisfy(\.isServing) && reference.stale.isEmpty
    }

    // MARK: - The tick

    /// One coalescing window has passed: rebuild the books the window's inputs made stale, find
    /// the affected accounts, re-margin them (one parallel pass), plan liquidations. The service
    /// flushes the batch afterwards.
    public func tick() {
        timing.start()
        defer {
            publishView()
            timing.lap(.publication)
            lastTickProfile = timing
            metrics.tickPhases(timing)
        }
        ticks += 1
        let now = clock()
        reportRestoreTimeouts(now: now)
        guard phase.isServing else { return }
        var affected = rebuildBooks()
        timing.lap(.books)
        if updateStaleness(now: now) {
            for underlying in reference.data.markets.underlyings.keys { affected.formUnion(accounts.keys(exposedTo: underlying)) }
        }
        // The periodic refresh, one slice of the shards per tick (``RefreshSchedule``); the first
        // serving tick starts it (restored accounts were just published).
        if refreshScheduledMs == 0 { refreshScheduledMs = now }
        let refreshed = RefreshSchedule.due(accounts.shards.keys, partitionCount: accountsPartitionCount ?? (accounts.partitions.last.map { Int($0) + 1 } ?? 1),
                                            intervalMs: settings.refreshInterval.milliseconds, from: refreshScheduledMs, to: now)
        refreshScheduledMs = now
        for partition in refreshed { affected.formUnion(accounts.keys(in: partition)) }
        if !affected.isEmpty { timedRemargin(Array(affected), force: false, refreshing: refreshed) }
        planLiquidations(now: now)
        timing.lap(.liquidations)
        publishHealthCounts()
    }

    /// Rebuilds the pending risk books; returns the accounts they affect (recompiled where the
    /// catalog or parameters changed, or where they were waiting for one of these markets).
    func rebuildBooks() -> Set<AccountKey> {
        var affected = Set<AccountKey>()
        switch reference.takeRebuild() {
        case .nothing:
            return []
        case .everything:
            logFailures(reference.rebuildBooks(Array(reference.data.markets.underlyings.keys), parallelism: .cores))
            for key in accounts.allKeys {
                accounts.recompile(key, markets: reference.marketsRead(by:), compile: reference.compile)
                affected.insert(key)
            }
            fullyCompiledRevision = reference.data.catalog.revision
        case .underlyings(let dirty):
            logFailures(reference.rebuildBooks(dirty, parallelism: .cores))
            for underlying in dirty {
                // One market (the usual tick): its set as it is, without rehashing every key.
                if affected.isEmpty { affected = accounts.keys(exposedTo: underlying) } else { affected.formUnion(accounts.keys(exposedTo: underlying)) }
            }
            // Accounts waiting for one of these markets (or compiled against an older catalog) are compiled now.
            let revision = reference.data.catalog.revision
            if revision == fullyCompiledRevision {
                for key in accounts.uncompiled where affected.contains(key) { accounts.update(key, reference.compile) }
            } else {
                for key in affected where accounts.read(key, { $0.exposure.map { $0.catalogRevision != revision } ?? true }) == true {
                    accounts.update(key, reference.compile)
                }
            }
        }
        return affected
    }

    private func logFailures(_ failures: [(underlying: String, error: MarginError)]) {
        for (underlying, error) in failures { logger.error("cannot build the risk book of \(underlying): \(error)") }
    }

    /// Recomputes which underlyings are stale; true when the set changed.
    func updateStaleness(now: Int64) -> Bool {
        let (changes, ages) = reference.updateStaleness(now: now, staleAfterMs: settings.staleAfter.milliseconds,
                                                        minimumConfidence: settings.minimumConfidence)
        for (underlying, age, stale) in ages {
            metrics.marketAge(underlying: underlying, seconds: Double(age) / 1000)
            metrics.marketStale(underlying: underlying, stale: stale)
        }
        for change in changes {
            if change.stale {
                logger.warning("market stale", metadata: [
                    "underlying": "\(change.underlying)", "since_ms": "\(change.sinceMs)", "age_ms": "\(change.ageMs)",
                    "confidence": "\(change.confidence)",
                ])
            } else {
                logger.info("market fresh again", metadata: ["underlying": "\(change.underlying)"])
            }
        }
        return !changes.isEmpty
    }

    /// Re-margins `keys` and records the pass's latency.
    func timedRemargin(_ keys: [AccountKey], force: Bool, refreshing refreshed: Set<Int32> = []) {
        let start = DispatchTime.now().uptimeNanoseconds
        remargin(keys, force: force, refreshing: refreshed)
        let elapsed = Int64(DispatchTime.now().uptimeNanoseconds - start)
        metrics.remarginLatency(nanoseconds: elapsed)
        latencies.record(elapsed)
    }

    /// Graceful shutdown: nothing new is processed or planned; the service flushes what is pending.
    public func drain() {
        defer { publishView() }
        phase.drain()
        logger.info("draining: no new inputs are processed")
    }

    /// A result's deterministic id: account, version, parameter set, health and the market
    /// snapshots it was computed from (a summary result's differs from the full one's), so that an
    /// id names one content.
    static func resultID(_ account: Account, result: MarginResult) -> String {
        resultID(account, parameterSet: (result.parameterSetId, result.parameterSetVersion), health: result.health,
                 marketTimestamps: result.marketTimestamps, summaryOnly: false)
    }

    static func resultID(_ account: Account, parameterSet: (id: String, version: Int64), health: HealthState,
                         marketTimestamps: [String: Int64], summaryOnly: Bool) -> String {
        // DeterministicID.make("res", [id, version, set id, set version, health, "underlying@timestamp"
        // in key order…, "summary"]), hashed without forming the strings (one result per changed account and tick).
        var digest = DeterministicID.Digest()
        digest.part(account.id)
        digest.part(account.version)
        digest.part(parameterSet.id)
        digest.part(parameterSet.version)
        digest.part(health.rawValue)
        if marketTimestamps.count <= 1 {
            for (underlying, timestamp) in marketTimestamps { digest.part(underlying, at: timestamp) }
        } else {
            for (underlying, timestamp) in marketTimestamps.sorted(by: { $0.key < $1.key }) { digest.part(underlying, at: timestamp) }
        }
        if summaryOnly { digest.part("summary") }
        return digest.id("res")
    }
}
