import Foundation
import KafkaClient
import Logging
import MarginCore
import MarginSchema

/// The margin worker's state and processing: reference data read whole, one shard per assigned
/// accounts partition, re-margining on account and (coalesced) market changes, stale guard,
/// and batched outputs committed with the consumed offsets.
///
/// An actor: Kafka events and the coalescing ticker call into it in order; the per-account
/// margin computations of a pass run in parallel over shards. It never waits for Kafka: the
/// service reads restore data before ``assignShards(_:)`` and publishes the batches it hands out
/// (``OutputFlusher``). See `Sources/MarginWorker/README.md` for the pipeline.
public actor MarginEngine {
    public let configuration: WorkerConfiguration
    let logger: Logger
    let metrics: WorkerMetrics
    let clock: @Sendable () -> Int64

    var reference = ReferenceData()
    var referenceTargets: [TopicPartition: Int64] = [:]
    var referencePositions: [TopicPartition: Int64] = [:]
    public private(set) var referenceReady = false
    /// When the reference restore began, and whether its timeout was reported.
    var referenceRestoreStartMs: Int64?
    var referenceTimeoutReported = false
    var shards: [Int32: AccountShard] = [:]
    /// Underlying → accounts exposed to it.
    var exposedAccounts: [String: Set<AccountKey>] = [:]
    var dirtyUnderlyings: Set<String> = []
    var rebuildAll = false
    var staleUnderlyings: [String: Int64] = [:]
    var lastRefreshMs: Int64 = 0
    var batch = OutputBatch()
    /// Dead letters of reference records, published by the owner of accounts partition 0 (bounded:
    /// the oldest are dropped, with a log, beyond 10,000 on an instance that never owns it).
    var pendingReferenceDeadLetters: [(record: ProducerRecord, reason: String)] = []
    /// A batch handed out by ``takeBatch()`` and not yet finished.
    var batchInFlight = false
    let outputs: OutputPublisher
    var liquidation: LiquidationCoordinator
    /// Recent re-margin pass latencies (ns), for the status line.
    var latencies: [Int64] = []
    var latencyCursor = 0
    /// Market timestamp each underlying's books were last rebuilt for.
    var processedMarketMs: [String: Int64] = [:]
    var maxQueued = 0
    /// Partitions of the accounts topic (all instances): this instance's budget share is the
    /// fraction it owns. Nil until known (then the share is 1).
    var accountsPartitionCount: Int?

    public init(configuration: WorkerConfiguration, outputs: OutputPublisher, logger: Logger,
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.configuration = configuration
        self.logger = logger
        self.metrics = WorkerMetrics(instance: configuration.instanceID)
        self.clock = clock
        self.outputs = outputs
        self.liquidation = LiquidationCoordinator(settings: configuration.liquidation, topics: configuration.topics)
        self.presetParameters = try? RiskPresets.load(configuration.paramsID)
    }

    /// The shipped preset named by `params_id`, read once (used until the params topic has a set).
    let presetParameters: RiskParameters?

    var parameters: RiskParameters? { reference.parameters(id: configuration.paramsID, fallback: presetParameters) }

    var calculator: MarginCalculator? { parameters.map { MarginCalculator(parameters: $0) } }

    // MARK: - Reference topics

    /// Sets the positions up to which the reference topics must be read before serving.
    public func setReferenceTargets(_ targets: [TopicPartition: Int64]) {
        referenceTargets = targets
        referenceRestoreStartMs = clock()
        checkReferenceReady()
    }

    public func handleReference(_ event: KafkaConsumerEvent) {
        let message: KafkaMessage
        switch event {
        case .message(let record): message = record
        case .partitionEnd(let partition, let next):
            // The end of a partition, past any transaction marker: caught up whatever the watermark said.
            referencePositions[partition] = max(referencePositions[partition] ?? 0, next, referenceTargets[partition] ?? 0)
            checkReferenceReady()
            return
        case .error(let error):
            logger.warning("reference consumer: \(error)")
            return
        case .partitionsAssigned, .partitionsRevoked:
            return
        }
        referencePositions[message.topicPartition] = message.offset + 1
        do {
            switch try reference.apply(message, topics: configuration.topics, nowMs: clock(), maxClockSkewMs: configuration.maxClockSkewMs,
                                         bounds: configuration.inputBounds) {
            case .instruments, .parameters: rebuildAll = true
            case .market(let underlying): dirtyUnderlyings.insert(underlying)
            case .none: break
            }
        } catch {
            deadLetter(message, error)
        }
        checkReferenceReady()
    }

    private func checkReferenceReady() {
        guard !referenceReady else { return }
        if referenceTargets.allSatisfy({ (referencePositions[$0.key] ?? 0) >= $0.value }) && !referenceTargets.isEmpty {
            referenceReady = true
            rebuildAll = true
            logger.info("reference data restored", metadata: [
                "instruments": "\(reference.catalog.count)", "markets": "\(reference.markets.underlyings.count)",
                "parameter_sets": "\(reference.parameterSets.count)",
            ])
        }
    }

    // MARK: - Accounts topic

    /// Takes over partitions of the accounts topic with what the service read for them first (the
    /// restore target and the liquidation state): the engine itself never waits for Kafka here.
    public func assignShards(_ assignments: [ShardAssignment]) {
        for assignment in assignments {
            let partition = assignment.partition.partition
            for problem in liquidation.restore(assignment.liquidationState) {
                logger.error("unreadable liquidation-state record", metadata: ["record": "\(problem)"])
            }
            shards[partition] = AccountShard(partition: partition, restoreTarget: assignment.restoreTarget, assignedAtMs: clock())
            logger.info("shard assigned", metadata: ["partition": "\(partition)", "restore_to": "\(assignment.restoreTarget)"])
            markRestoredIfCaughtUp(partition)
        }
        updateBudgetShare()
        publishReferenceDeadLettersIfOwner()
    }

    /// Records, partition ends, revocations and errors of the accounts consumer. Assignments go
    /// through ``assignShards(_:)`` (the service reads their restore data first).
    public func handleAccounts(_ event: KafkaConsumerEvent) async {
        switch event {
        case .partitionsAssigned(let partitions):
            // Not expected (the service calls assignShards): restore to the partitions' ends, no liquidation state.
            logger.error("partitions assigned without restore data", metadata: ["partitions": "\(partitions)"])
            assignShards(ShardAssignment.restoring(partitions, to: { _ in .max }))
        case .partitionsRevoked(let partitions):
            // The service has flushed this partition's outputs (see ``prepareRevocation(_:)``): release the state.
            for partition in partitions {
                guard let shard = shards.removeValue(forKey: partition.partition) else { continue }
                for (id, entry) in shard.accounts {
                    unindex(AccountKey(partition: partition.partition, id: id), entry)
                }
                liquidation.release(partition: partition.partition)
                batch.offsets[partition] = nil
                metrics.accountsInShard(partition.partition, 0)
                logger.info("shard revoked", metadata: ["partition": "\(partition.partition)", "accounts": "\(shard.accounts.count)"])
            }
            updateBudgetShare()
        case .message(let message):
            handleAccountMessage(message)
            markRestoredIfCaughtUp(message.partition)
        case .partitionEnd(let partition, let next):
            // Caught up on a partition whose high watermark may lie past a commit marker.
            guard partition.topic == configuration.topics.accounts, let shard = shards[partition.partition] else { return }
            shards[partition.partition]!.nextOffset = max(shard.nextOffset, next, shard.restoreTarget)
            markRestoredIfCaughtUp(partition.partition)
        case .error(let error):
            logger.warning("accounts consumer: \(error)")
        }
    }

    private func handleAccountMessage(_ message: KafkaMessage) {
        let partition = message.partition
        guard shards[partition] != nil else { return } // not (or no longer) ours
        shards[partition]!.nextOffset = message.offset + 1
        batch.offsets[message.topicPartition] = KafkaOffset(message.offset + 1)
        guard let keyData = message.key, !keyData.isEmpty else {
            deadLetter(message, MarginError.invalidInput(field: "key", reason: "account records need the account id as key"))
            return
        }
        let id = String(decoding: keyData, as: UTF8.self)
        let key = AccountKey(partition: partition, id: id)
        guard let value = message.value else {
            if let entry = shards[partition]!.accounts.removeValue(forKey: id) { unindex(key, entry) }
            return
        }
        let account: Account
        do {
            let state = try SchemaCoding.decode(Margin_V1_AccountState.self, from: value, format: .init(contentType: message.header("content-type")))
            account = Account(proto: state)
            guard account.id == id else {
                throw MarginError.invalidInput(field: "account_id", reason: "'\(account.id)' does not match key '\(id)'")
            }
            try account.validate(instruments: reference.catalog, bounds: configuration.inputBounds)
        } catch {
            deadLetter(message, error)
            return
        }
        if let existing = shards[partition]!.accounts[id], existing.account.version >= account.version {
            return // replay or out-of-order: ignored
        }
        var entry = shards[partition]!.accounts[id] ?? AccountEntry(account: account)
        if let old = shards[partition]!.accounts[id] { unindex(key, old) }
        entry.account = account
        entry.exposure = nil
        compile(&entry)
        index(key, entry)
        shards[partition]!.accounts[id] = entry
        if shards[partition]!.restored {
            let start = DispatchTime.now().uptimeNanoseconds
            remargin([key], force: false)
            recordLatency(Int64(DispatchTime.now().uptimeNanoseconds - start))
        }
    }

    func recordLatency(_ nanoseconds: Int64) {
        metrics.remarginLatency(nanoseconds: nanoseconds)
        if latencies.count < 2_048 { latencies.append(nanoseconds) } else { latencies[latencyCursor % 2_048] = nanoseconds }
        latencyCursor += 1
    }

    /// A shard that has read up to its restore target: margin everything and publish.
    func markRestoredIfCaughtUp(_ partition: Int32) {
        guard let shard = shards[partition], !shard.restored, shard.isCaughtUp else { return }
        shards[partition]!.restored = true
        let keys = shard.accounts.keys.map { AccountKey(partition: partition, id: $0) }
        logger.info("shard restored", metadata: ["partition": "\(partition)", "accounts": "\(keys.count)"])
        metrics.accountsInShard(partition, keys.count)
        remargin(keys, force: true)
    }

    // MARK: - Exposure index

    func compile(_ entry: inout AccountEntry) {
        guard let parameters else {
            entry.blockedReason = "no parameter set \(configuration.paramsID)"
            entry.error = .missingParameters(underlying: configuration.paramsID)
            return
        }
        do {
            entry.exposure = try AccountExposure(account: entry.account, catalog: reference.catalog, books: reference.books, parameters: parameters)
            entry.blockedReason = nil
            entry.error = nil
        } catch {
            entry.exposure = nil
            entry.blockedReason = error.description
            entry.error = error
        }
    }

    /// The markets the account's valuation reads (``Account/marketsRead(catalog:valuationAsset:)``):
    /// a tick of any of them re-margins it, and any of them stale makes it stale.
    func underlyings(of entry: AccountEntry) -> Set<String> {
        entry.account.marketsRead(catalog: reference.catalog, valuationAsset: parameters?.valuationAsset ?? "")
    }

    func index(_ key: AccountKey, _ entry: AccountEntry) {
        for underlying in underlyings(of: entry) { exposedAccounts[underlying, default: []].insert(key) }
    }

    func unindex(_ key: AccountKey, _ entry: AccountEntry) {
        for underlying in underlyings(of: entry) { exposedAccounts[underlying]?.remove(key) }
    }

    // MARK: - Ticks: coalesced market passes, staleness, refresh, flush

    /// One coalescing window has passed.
    public func tick() {
        let now = clock()
        reportRestoreTimeouts(now: now)
        guard referenceReady else { return }
        var affected = Set<AccountKey>()
        var force = false
        if rebuildAll {
            rebuildAll = false
            dirtyUnderlyings = []
            rebuildBooks(Array(reference.markets.underlyings.keys))
            for (partition, shard) in shards {
                for id in shard.accounts.keys {
                    var entry = shards[partition]!.accounts[id]!
                    unindex(AccountKey(partition: partition, id: id), entry)
                    compile(&entry)
                    index(AccountKey(partition: partition, id: id), entry)
                    shards[partition]!.accounts[id] = entry
                    affected.insert(AccountKey(partition: partition, id: id))
                }
            }
        } else if !dirtyUnderlyings.isEmpty {
            let dirty = dirtyUnderlyings
            dirtyUnderlyings = []
            rebuildBooks(Array(dirty))
            for underlying in dirty { affected.formUnion(exposedAccounts[underlying] ?? []) }
            // Accounts waiting for one of these markets can now be compiled.
            for key in affected {
                guard var entry = shards[key.partition]?.accounts[key.id], entry.exposure == nil || entry.exposure?.catalogRevision != reference.catalog.revision else { continue }
                compile(&entry)
                shards[key.partition]!.accounts[key.id] = entry
            }
        }
        if updateStaleness(now: now) {
            for underlying in reference.markets.underlyings.keys { affected.formUnion(exposedAccounts[underlying] ?? []) }
        }
        if configuration.refreshIntervalMs > 0, now - lastRefreshMs >= configuration.refreshIntervalMs {
            lastRefreshMs = now
            for (partition, shard) in shards { for id in shard.accounts.keys { affected.insert(AccountKey(partition: partition, id: id)) } }
            force = true
        }
        if !affected.isEmpty {
            let start = DispatchTime.now().uptimeNanoseconds
            remargin(Array(affected), force: force)
            recordLatency(Int64(DispatchTime.now().uptimeNanoseconds - start))
        }
        planLiquidations(now: now)
        publishHealthCounts()
    }

    func rebuildBooks(_ underlyings: [String]) {
        guard let calculator else { return }
        for underlying in underlyings {
            guard reference.markets[underlying] != nil, calculator.parameters.riskUnit(for: underlying) != nil else {
                reference.books[underlying] = nil
                continue
            }
            let asOf = reference.markets[underlying]!.timestampMs
            processedMarketMs[underlying] = asOf
            do {
                reference.books[underlying] = try calculator.riskBook(for: underlying, catalog: reference.catalog, markets: reference.markets,
                                                                     asOfMs: asOf, reusing: reference.books[underlying])
            } catch {
                logger.error("cannot build the risk book of \(underlying): \(error)")
                reference.books[underlying] = nil
            }
        }
    }

    /// Recomputes which underlyings are stale; true when the set changed.
    func updateStaleness(now: Int64) -> Bool {
        var changed = false
        for (underlying, market) in reference.markets.underlyings {
            let age = now - market.timestampMs
            metrics.marketAge(underlying: underlying, seconds: Double(age) / 1000)
            let stale = age > configuration.staleAfterMs || market.indexConfidence < configuration.minimumConfidence
            let wasStale = staleUnderlyings[underlying] != nil
            if stale && !wasStale {
                staleUnderlyings[underlying] = market.timestampMs
                logger.warning("market stale", metadata: [
                    "underlying": "\(underlying)", "since_ms": "\(market.timestampMs)", "age_ms": "\(age)",
                    "confidence": "\(market.indexConfidence)",
                ])
                changed = true
            } else if !stale && wasStale {
                staleUnderlyings[underlying] = nil
                logger.info("market fresh again", metadata: ["underlying": "\(underlying)"])
                changed = true
            }
            metrics.marketStale(underlying: underlying, stale: stale)
        }
        return changed
    }

    public var isReady: Bool {
        referenceReady && shards.values.allSatisfy(\.restored) && staleUnderlyings.isEmpty
    }

    static func resultID(_ account: Account, result: MarginResult) -> String {
        var parts = [account.id, String(account.version), result.parameterSetId, String(result.parameterSetVersion), result.health.rawValue]
        for (underlying, timestamp) in result.marketTimestamps.sorted(by: { $0.key < $1.key }) { parts.append("\(underlying)@\(timestamp)") }
        return DeterministicID.make("res", parts)
    }

    // MARK: - Liquidations

    func planLiquidations(now: Int64) {
        guard configuration.liquidation.enabled, let calculator else { return }
        let planned = liquidation.plan(now: now, shards: shards, calculator: calculator, reference: reference, stale: staleUnderlyings, publisher: outputs)
        batch.records.append(contentsOf: planned.records)
        batch.liquidationCommits.append(contentsOf: planned.commits)
        for failure in liquidation.newFailures { logger.warning("liquidation planning: cannot use \(failure)") }
        metrics.liquidationQueue(liquidation.queuedCount)
        for (reason, count) in liquidation.waitingByReason { metrics.liquidationWaiting(reason: reason, count) }
        maxQueued = max(maxQueued, liquidation.queuedCount)
    }

    // MARK: - Dead letters

    /// Dead-letters an invalid record with a deterministic id (topic, partition, offset). An accounts
    /// record is dead-lettered by whichever instance reads it, also while restoring a shard (it may
    /// never have been seen by a live owner: a replay repeats the same id, none goes missing).
    /// Reference records are read by every instance: only the owner of accounts partition 0
    /// publishes their dead letters; the others keep them until they own it.
    func deadLetter(_ message: KafkaMessage, _ error: any Error) {
        let reason = (error as? MarginError)?.code ?? "invalid_input"
        let text = (error as? MarginError)?.description ?? "\(error)"
        let record = outputs.deadLetter(message, reason: reason, error: text, topic: configuration.topics.deadLetter)
        logger.warning("dead letter", metadata: ["topic": "\(message.topic)", "partition": "\(message.partition)",
                                                 "offset": "\(message.offset)", "reason": "\(reason)", "error": "\(text)"])
        if message.topic != configuration.topics.accounts {
            pendingReferenceDeadLetters.append((record, reason))
            if pendingReferenceDeadLetters.count > 10_000 {
                pendingReferenceDeadLetters.removeFirst()
                logger.warning("more than 10,000 reference dead letters waiting for the owner of accounts partition 0; dropping the oldest")
            }
            publishReferenceDeadLettersIfOwner()
            return
        }
        metrics.deadLetter(reason: reason)
        batch.records.append(record)
    }

    /// The owner of accounts partition 0 publishes the reference dead letters seen so far.
    func publishReferenceDeadLettersIfOwner() {
        guard shards[0] != nil, !pendingReferenceDeadLetters.isEmpty else { return }
        for (record, reason) in pendingReferenceDeadLetters {
            metrics.deadLetter(reason: reason)
            batch.records.append(record)
        }
        pendingReferenceDeadLetters = []
    }

    // MARK: - Output batches

    func publishHealthCounts() {
        var counts: [String: Int] = Dictionary(uniqueKeysWithValues: HealthState.allCases.map { ($0.rawValue, 0) })
        for shard in shards.values {
            for entry in shard.accounts.values { if let health = entry.effectiveHealth { counts[health.rawValue, default: 0] += 1 } }
        }
        metrics.accountsByHealth(counts)
    }

    // MARK: - Queries (HTTP)

    /// The current margin of an account with its breakdown, from memory.
    /// An account that cannot be margined answers with its error result (health `error`, reason).
    public func currentResult(accountID: String) -> Margin_V1_MarginResult? {
        for shard in shards.values {
            guard let entry = shard.accounts[accountID] else { continue }
            var answer: Margin_V1_MarginResult
            if let error = entry.error {
                answer = errorResult(entry.account, error)
            } else {
                guard let exposure = entry.exposure, let calculator else { continue }
                do {
                    var result = try calculator.explain(exposure, books: reference.books, markets: reference.markets)
                    if let field = result.firstNonFiniteField {
                        answer = errorResult(entry.account, .numerical("\(field) is not finite"))
                    } else {
                        if let health = entry.effectiveHealth { result.health = health }
                        answer = result.proto(resultID: Self.resultID(entry.account, result: result))
                    }
                } catch {
                    answer = errorResult(entry.account, error)
                }
            }
            answer.liquidation = liquidation.status(of: AccountKey(partition: shard.partition, id: accountID), health: answer.health == .error ? .error : entry.effectiveHealth)
            return answer
        }
        return nil
    }

    /// Margin of a posted account against the live markets (nothing is stored).
    public func whatIf(_ account: Account) throws(MarginError) -> Margin_V1_MarginResult {
        guard let calculator else { throw .missingParameters(underlying: configuration.paramsID) }
        try account.validate(instruments: reference.catalog, bounds: configuration.inputBounds)
        let asOf = reference.markets.underlyings.values.map(\.timestampMs).max() ?? clock()
        return try calculator.margin(account: account, catalog: reference.catalog, markets: reference.markets, asOfMs: asOf).proto()
    }

    /// Counts for the status line and tests.
    public func status() -> WorkerStatus {
        var byHealth: [HealthState: Int] = [:]
        var accounts = 0
        for shard in shards.values {
            accounts += shard.accounts.count
            for entry in shard.accounts.values { if let health = entry.effectiveHealth { byHealth[health, default: 0] += 1 } }
        }
        return WorkerStatus(referenceReady: referenceReady, shards: shards.keys.sorted(),
                            restoredShards: shards.values.filter(\.restored).map(\.partition).sorted(), accounts: accounts,
                            accountsByHealth: byHealth, staleUnderlyings: staleUnderlyings.keys.sorted(),
                            queuedLiquidations: liquidation.queuedCount, outstandingInstructions: liquidation.outstandingCount,
                            maxQueuedLiquidations: maxQueued, processedMarketMs: processedMarketMs,
                            latencyP50Ms: percentile(0.5), latencyP99Ms: percentile(0.99), pendingOutputs: batch.records.count,
                            waitingReasons: Dictionary(liquidation.waiting.map { ($0.key.id, $0.value.code) }, uniquingKeysWith: { a, _ in a }))
    }

    func percentile(_ q: Double) -> Double {
        guard !latencies.isEmpty else { return 0 }
        let sorted = latencies.sorted()
        return Double(sorted[min(sorted.count - 1, Int(q * Double(sorted.count - 1)))]) / 1e6
    }
}

/// A snapshot of the engine's state.
public struct WorkerStatus: Sendable, Hashable {
    public var referenceReady: Bool
    public var shards: [Int32]
    public var restoredShards: [Int32]
    public var accounts: Int
    public var accountsByHealth: [HealthState: Int]
    public var staleUnderlyings: [String]
    public var queuedLiquidations: Int
    public var outstandingInstructions: Int
    public var maxQueuedLiquidations: Int
    public var processedMarketMs: [String: Int64]
    public var latencyP50Ms: Double
    public var latencyP99Ms: Double
    public var pendingOutputs: Int
    /// Liquidatable accounts not instructed in the last window, and why each waits
    /// (``WaitingReason/code``: budget, no_depth, plan_error).
    public var waitingReasons: [String: String]
    /// The accounts of ``waitingReasons``.
    public var queuedAccounts: Set<String> { Set(waitingReasons.keys) }
}

/// A buffer written by disjoint indices from `concurrentPerform`.
struct UncheckedBuffer<T>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<T>
    init(_ buffer: UnsafeMutableBufferPointer<T>) { self.buffer = buffer }
}
