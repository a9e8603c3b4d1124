import Foundation
import KafkaClient
import Logging
import MarginCore
import MarginSchema
import MarginWorker
import ServiceLifecycle
import Synchronization

/// Options of `margin-engine demo`.
public struct DemoOptions: Sendable {
    public var accounts = 10_000
    public var seed: UInt64 = 42
    /// Simulated seconds per real second.
    public var speed = 10.0
    /// Simulated seconds between market snapshots.
    public var stepSeconds = 2.0
    public var partitions: Int32 = 6
    public var path = CrashPath()
    /// Print the live status line.
    public var showStatus = true

    public init() {}
}

/// What the demo reports at the end (also written as JSON with `--json`).
public struct DemoSummary: Codable, Sendable {
    public struct Instruction: Codable, Sendable {
        public var id: String
        public var account: String
        public var severity: Double
        public var reason: String
        public var equity: Double
        public var maintenance: Double
        public var legs: [String]
    }

    public var accounts: Int
    public var seed: UInt64
    public var sviFitRMSVolPoints: [String: Double]
    public var healthBefore: [String: Int]
    public var healthAfter: [String: Int]
    public var maintenanceBefore: Double
    public var maintenanceAfter: Double
    public var initialBefore: Double
    public var initialAfter: Double
    public var instructions: Int
    public var cancels: Int
    public var legs: Int
    public var notionalInstructedUSD: Double
    public var maxQueuedByAntiCascade: Int
    /// Liquidatable accounts without an instruction at the end, per reason (budget, no_depth, plan_error).
    public var waitingAtEnd: [String: Int]
    public var bankruptAccounts: Int
    public var estimatedDeficit: Double
    public var resultsRead: Int
    public var instructionsRead: Int
    public var remarginLatencyP50Ms: Double
    public var remarginLatencyP99Ms: Double
    public var topInstructions: [Instruction]
    /// Liquidatable or bankrupt at the end with neither an instruction nor a place in the queue.
    public var unhandledLiquidatable: [String]
    /// Instructions issued while the account was not below MM (must be empty).
    public var instructionsOnHealthyAccounts: [String]
    public var instructionIDs: [String]
    public var wallSeconds: Double
    /// Every parameter version the in-process calibrator published, in order.
    public var calibration: [CalibrationPoint]
    /// Partitions whose log start the embedded broker moved (records dropped: it keeps about 5 MiB
    /// per partition), as `topic[partition]` → first offset kept. Empty when nothing was dropped.
    public var droppedByEmbeddedBroker: [String: Int64]
    /// Liquidity and concentration add-ons (IM, USDC) over all accounts at the opening snapshot,
    /// and for the ten accounts with the largest IM: their share of IM.
    public var liquidityAddOnInitial: Double
    public var concentrationAddOnInitial: Double
    public var addOnsLargestAccounts: [AddOnShare]

    /// One account's IM and the part of it that the liquidity and concentration add-ons make.
    public struct AddOnShare: Codable, Sendable {
        public var account: String
        public var initialRequirement: Double
        public var liquidity: Double
        public var concentration: Double
        /// `(liquidity + concentration) / initialRequirement`.
        public var share: Double
        /// The position with the largest add-ons: instrument, quantity and displayed depth on its
        /// closing side (contracts).
        public var largestPosition: String
    }

    /// One version of the calibrated parameter set: the BTC grid range with and without APC, the
    /// Forecast volatility (annualised), how much APC added, and the FHS ES of a $1M long BTC position.
    public struct CalibrationPoint: Codable, Sendable {
        public var version: Int64
        public var simulatedSeconds: Double
        public var reason: String
        public var priceRange: Double
        public var priceRangeWithoutAPC: Double
        public var forecastVolatility: Double
        public var apcAddOn: Double
        public var expectedShortfallPerMillionLong: Double
    }
}

/// Reads the workers' outputs with its own consumer, as a downstream service would.
actor DemoObserver {
    var latest: [String: Margin_V1_MarginResult] = [:]
    var instructions: [Margin_V1_LiquidationInstruction] = []
    var resultCount = 0
    var waiters: [(condition: @Sendable (DemoObserver.State) -> Bool, continuation: CheckedContinuation<Void, Never>)] = []

    struct State: Sendable {
        var latestCount: Int
        var resultCount: Int
    }

    func add(_ message: KafkaMessage, topics: TopicNames) {
        guard let value = message.value else { return }
        let format = SchemaCoding.Format(contentType: message.header("content-type"))
        if message.topic == topics.results, let result = try? SchemaCoding.decode(Margin_V1_MarginResult.self, from: value, format: format) {
            latest[result.accountID] = result
            resultCount += 1
        } else if message.topic == topics.liquidations,
                  let instruction = try? SchemaCoding.decode(Margin_V1_LiquidationInstruction.self, from: value, format: format) {
            instructions.append(instruction)
        }
        let state = State(latestCount: latest.count, resultCount: resultCount)
        var remaining: [(condition: @Sendable (DemoObserver.State) -> Bool, continuation: CheckedContinuation<Void, Never>)] = []
        for waiter in waiters {
            if waiter.condition(state) { waiter.continuation.resume() } else { remaining.append(waiter) }
        }
        waiters = remaining
    }

    func wait(until condition: @escaping @Sendable (State) -> Bool) async {
        if condition(State(latestCount: latest.count, resultCount: resultCount)) { return }
        await withCheckedContinuation { waiters.append((condition, $0)) }
    }
}

/// Runs the whole product on one machine: embedded Kafka, two worker instances in one consumer
/// group (the real worker code over loopback), the Deribit chain as market, generated accounts,
/// a crash replayed as market snapshots, and a separate consumer reading the outputs.
public final class DemoRunner: Sendable {
    public let options: DemoOptions
    let logger: Logger

    public init(options: DemoOptions, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    public func run(print say: @escaping @Sendable (String) -> Void, status: @escaping @Sendable (String) -> Void) async throws -> DemoSummary {
        let wallStart = Date()
        let market = try DemoMarket()
        let opening = market.snapshot(at: market.startMs, path: options.path)
        let seed = try DemoCalibration.seed(before: UTCDay.day(ofUnixMs: market.startMs))
        var calibratorConfiguration = DemoCalibration.configuration(brokers: "")
        let parameters = try DemoCalibration.initialParameters(seed: seed, configuration: calibratorConfiguration, opening: opening)
        let calculator = MarginCalculator(parameters: parameters)
        say("market: Deribit BTC chain of \(DemoMarket.expiryLabel(market.startMs)), index \(String(format: "%.2f", market.index)), \(market.instruments.count) instruments")
        var fit: [String: Double] = [:]
        for e in market.expiries {
            fit[DemoMarket.expiryLabel(e.expiryMs)] = e.rmsError * 100
            say(String(format: "  SVI fit %@: %d quotes, rms error %.2f vol points", DemoMarket.expiryLabel(e.expiryMs), e.quotes, e.rmsError * 100))
        }
        let accounts = try AccountGenerator(seed: options.seed).generate(count: options.accounts, market: market, calculator: calculator)
        say("accounts: \(accounts.count) generated (seed \(options.seed))")

        let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: logger)
        let topics = TopicNames()
        try WorkerTopology.create(on: cluster, topics: topics, partitions: options.partitions)
        say("embedded Kafka at \(cluster.bootstrapServers); topics created")
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(
            common: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, clientID: "demo-inputs", properties: ["log_level": "2"]),
            lingerMs: 5), logger: logger)
        func send(_ topic: String, _ key: String, _ data: Data) async throws {
            try await producer.enqueue(ProducerRecord(topic: topic, key: Data(key.utf8), value: data))
        }
        for instrument in market.instruments { try await send(topics.instruments, instrument.name, SchemaCoding.encode(instrument.proto, format: .protobuf)) }
        let clock = Atomic<Int64>(market.startMs)
        // USDC first: the calibrator starts from the topic's latest record, the BTC opening snapshot,
        // so its version 1 is the set the accounts were generated against.
        try await send(topics.market, "USDC", SchemaCoding.encode(market.stablecoin(at: market.startMs).proto, format: .protobuf))
        try await send(topics.market, "BTC", SchemaCoding.encode(market.snapshot(at: market.startMs, path: options.path).proto, format: .protobuf))
        for account in accounts { try await send(topics.accounts, account.id, SchemaCoding.encode(account.proto, format: .protobuf)) }
        try await producer.flush()

        // The separate downstream consumer.
        let observer = DemoObserver()
        let reader = try KafkaConsumer(configuration: KafkaConsumerConfiguration(
            common: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, clientID: "demo-reader", properties: ["log_level": "2"]),
            fetchWaitMaxMs: 10, bufferCapacity: 20_000), logger: logger)
        try await reader.assignWhole(topics: [topics.results, topics.liquidations])
        let readerTask = Task { for await event in reader.events { if case .message(let m) = event { await observer.add(m, topics: topics) } } }

        // The calibrator: publishes version 1 for the opening snapshot, then a new version whenever
        // the crash moves BTC's EWMA volatility by more than 25 %.
        calibratorConfiguration.worker.brokers = cluster.bootstrapServers
        let calibrationLog = Mutex<[DemoSummary.CalibrationPoint]>([])
        let startMs = market.startMs
        let calibrator = CalibratorService(configuration: calibratorConfiguration, seed: seed, logger: logger) { published in
            let point = DemoCalibration.point(published, simulatedSeconds: Double(clock.load(ordering: .relaxed) - startMs) / 1000)
            calibrationLog.withLock { $0.append(point) }
            say(String(format: "calibrator: %@ v%lld (%@): BTC range ±%.1f%% (±%.1f%% without APC), forecast vol %.0f%%, FHS ES of $1M long %.0f",
                       published.id, published.version, point.reason, point.priceRange * 100, point.priceRangeWithoutAPC * 100,
                       point.forecastVolatility * 100, point.expectedShortfallPerMillionLong))
        }
        let calibratorGroup = ServiceGroup(configuration: .init(services: [.init(service: calibrator)], logger: logger))
        let calibratorTask = Task { try await calibratorGroup.run() }

        // Two worker instances in one consumer group.
        var instances: [(MarginWorkerService, ServiceGroup, Task<Void, any Error>)] = []
        for name in ["demo-a", "demo-b"] {
            var configuration = WorkerConfiguration()
            configuration.brokers = cluster.bootstrapServers
            configuration.group = "demo-workers"
            configuration.instanceID = name
            configuration.sessionTimeoutMs = 4_000
            configuration.publishThreshold = 0.05
            configuration.refreshIntervalMs = 0
            configuration.kafka = ["log_level": "2"]
            configuration.liquidation.budgetFraction = 0.5
            configuration.paramsID = DemoCalibration.paramsID
            let service = MarginWorkerService(configuration: configuration, logger: logger, clock: { clock.load(ordering: .relaxed) })
            let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: logger))
            instances.append((service, group, Task { try await group.run() }))
        }
        let engines = instances.map(\.0.engine)
        say("workers demo-a and demo-b started; margining \(accounts.count) accounts…")
        let total = accounts.count
        await observer.wait { $0.latestCount >= total }
        let before = await observer.latest
        say(String(format: "all %d accounts margined after %.1f s", total, Date().timeIntervalSince(wallStart)))

        // Replay the crash, time-compressed.
        let steps = Int((options.path.totalSeconds / options.stepSeconds).rounded(.up))
        var lastTimestamp = market.startMs
        let interactive = isatty(1) != 0
        var lastStatus = Date.distantPast
        for step in 1...steps {
            let simulated = market.startMs + Int64(Double(step) * options.stepSeconds * 1000)
            clock.store(simulated, ordering: .relaxed)
            let snapshot = market.snapshot(at: simulated, path: options.path)
            try await send(topics.market, "BTC", SchemaCoding.encode(snapshot.proto, format: .protobuf))
            try await send(topics.market, "USDC", SchemaCoding.encode(market.stablecoin(at: simulated).proto, format: .protobuf))
            try await producer.flush()
            lastTimestamp = simulated
            try await Task.sleep(for: .milliseconds(Int(options.stepSeconds / options.speed * 1000)))
            if options.showStatus, Date().timeIntervalSince(lastStatus) >= (interactive ? 0.25 : 2) {
                lastStatus = Date()
                let line = await statusLine(simulatedSeconds: Double(simulated - market.startMs) / 1000, index: snapshot.indexPrice,
                                            observer: observer, engines: engines)
                status(line)
            }
        }
        // Let the workers finish the last snapshot and publish everything.
        while true {
            var done = true
            for engine in engines {
                let s = await engine.status()
                if s.accounts > 0 && (s.processedMarketMs["BTC"] ?? 0) < lastTimestamp || s.pendingOutputs > 0 { done = false }
            }
            if done { break }
            try await Task.sleep(for: .milliseconds(50)) // polling worker state: the pass is asynchronous
        }
        try await Task.sleep(for: .milliseconds(500)) // a few more coalescing windows for the final plans and the reader
        var p50 = 0.0, p99 = 0.0, maxQueued = 0
        var queuedNow = Set<String>()
        var waitingAtEnd: [String: Int] = [:]
        for engine in engines {
            let s = await engine.status()
            p50 = max(p50, s.latencyP50Ms)
            p99 = max(p99, s.latencyP99Ms)
            maxQueued += s.maxQueuedLiquidations
            queuedNow.formUnion(s.queuedAccounts)
            for reason in s.waitingReasons.values { waitingAtEnd[reason, default: 0] += 1 }
        }
        if options.showStatus {
            status(await statusLine(simulatedSeconds: Double(lastTimestamp - market.startMs) / 1000, index: market.snapshot(at: lastTimestamp, path: options.path).indexPrice,
                                    observer: observer, engines: engines))
        }
        for instance in instances { await instance.1.triggerGracefulShutdown() }
        await calibratorGroup.triggerGracefulShutdown()
        for instance in instances {
            do { try await instance.2.value } catch { logger.error("demo worker stopped with an error: \(error)") }
        }
        do { try await calibratorTask.value } catch { logger.error("demo calibrator stopped with an error: \(error)") }
        await producer.close()
        try await Task.sleep(for: .milliseconds(200)) // the reader drains what the final commits released
        await reader.close()
        let monitor = try EmbeddedLogStartMonitor(bootstrapServers: cluster.bootstrapServers, topics: topics.all, logger: logger)
        let dropped = await monitor.check()
        await monitor.close()
        _ = await readerTask.value

        let after = await observer.latest
        let instructions = await observer.instructions
        let catalog = InstrumentCatalog(market.instruments)
        let finalIndex = market.snapshot(at: lastTimestamp, path: options.path).indexPrice
        func health(_ results: [String: Margin_V1_MarginResult]) -> [String: Int] {
            var counts: [String: Int] = [:]
            for result in results.values { counts[Self.name(result.health), default: 0] += 1 }
            return counts
        }
        let issued = instructions.filter { !$0.cancel }
        var notional = 0.0
        for leg in issued.flatMap(\.legs) {
            guard let instrument = catalog[leg.instrument] else { continue }
            switch (instrument.kind, instrument.settlement) {
            case (.option, _): notional += leg.quantity * instrument.contractSize * finalIndex
            case (_, .inverse): notional += leg.quantity * instrument.contractSize
            default: notional += leg.quantity * instrument.contractSize * finalIndex
            }
        }
        var deficits: [String: Double] = [:]
        for instruction in issued where instruction.reason == .bankrupt { deficits[instruction.accountID] = instruction.estimatedDeficit }
        let instructed = Set(issued.map(\.accountID))
        let unhandled = after.values.filter {
            ($0.health == .liquidatable || $0.health == .bankrupt) && !instructed.contains($0.accountID) && !queuedNow.contains($0.accountID)
        }.map(\.accountID)
        let top = issued.sorted { $0.severity > $1.severity }.prefix(10).map { instruction in
            DemoSummary.Instruction(id: instruction.id, account: instruction.accountID, severity: instruction.severity,
                                    reason: instruction.reason == .bankrupt ? "bankrupt" : "maintenance_breach",
                                    equity: instruction.equity, maintenance: instruction.maintenanceRequirement,
                                    legs: instruction.legs.map { "\($0.side == .buy ? "buy" : "sell") \(Self.format($0.quantity)) \($0.instrument) @ \(Self.format($0.limitPrice))" })
        }
        let addOns = Self.addOns(before)
        return DemoSummary(
            accounts: total, seed: options.seed, sviFitRMSVolPoints: fit, healthBefore: health(before), healthAfter: health(after),
            maintenanceBefore: before.values.reduce(0) { $0 + $1.maintenanceRequirement }, maintenanceAfter: after.values.reduce(0) { $0 + $1.maintenanceRequirement },
            initialBefore: before.values.reduce(0) { $0 + $1.initialRequirement }, initialAfter: after.values.reduce(0) { $0 + $1.initialRequirement },
            instructions: issued.count, cancels: instructions.count - issued.count, legs: issued.reduce(0) { $0 + $1.legs.count },
            notionalInstructedUSD: notional, maxQueuedByAntiCascade: maxQueued, waitingAtEnd: waitingAtEnd, bankruptAccounts: deficits.count,
            estimatedDeficit: deficits.values.reduce(0, +), resultsRead: await observer.resultCount, instructionsRead: instructions.count,
            remarginLatencyP50Ms: p50, remarginLatencyP99Ms: p99, topInstructions: Array(top),
            unhandledLiquidatable: unhandled.sorted(),
            instructionsOnHealthyAccounts: issued.filter { $0.equity >= $0.maintenanceRequirement && $0.equity >= 10 }.map(\.id),
            instructionIDs: issued.map(\.id).sorted(), wallSeconds: Date().timeIntervalSince(wallStart),
            calibration: calibrationLog.withLock { $0 },
            droppedByEmbeddedBroker: Dictionary(uniqueKeysWithValues: dropped.map { ("\($0.key.topic)[\($0.key.partition)]", $0.value) }),
            liquidityAddOnInitial: addOns.liquidity, concentrationAddOnInitial: addOns.concentration, addOnsLargestAccounts: addOns.largest)
    }

    /// The add-ons' IM in `results` (the `liquidity` and `concentration` contingencies), in total
    /// and for the ten accounts with the largest IM.
    static func addOns(_ results: [String: Margin_V1_MarginResult]) -> (liquidity: Double, concentration: Double, largest: [DemoSummary.AddOnShare]) {
        func charge(_ result: Margin_V1_MarginResult, _ name: String) -> Double {
            result.riskUnits.flatMap(\.contingencies).filter { $0.name == name }.reduce(0) { $0 + $1.initial }
        }
        let liquidity = results.values.reduce(0) { $0 + charge($1, "liquidity") }
        let concentration = results.values.reduce(0) { $0 + charge($1, "concentration") }
        let largest = results.values.sorted {
            $0.initialRequirement != $1.initialRequirement ? $0.initialRequirement > $1.initialRequirement : $0.accountID < $1.accountID
        }.prefix(10).map { result in
            let l = charge(result, "liquidity"), c = charge(result, "concentration")
            let top = result.riskUnits.flatMap(\.liquidityAddOns).max {
                $0.liquidityInitial + $0.concentrationInitial < $1.liquidityInitial + $1.concentrationInitial
            }
            let largest = top.map { "\($0.instrument) × \(format($0.quantity)) (book \(format($0.closeCost.displayedDepth)))" } ?? ""
            return DemoSummary.AddOnShare(account: result.accountID, initialRequirement: result.initialRequirement, liquidity: l,
                                          concentration: c, share: result.initialRequirement > 0 ? (l + c) / result.initialRequirement : 0,
                                          largestPosition: largest)
        }
        return (liquidity, concentration, Array(largest))
    }

    func statusLine(simulatedSeconds: Double, index: Double, observer: DemoObserver, engines: [MarginEngine]) async -> String {
        let latest = await observer.latest
        var counts: [Margin_V1_HealthState: Int] = [:]
        for result in latest.values { counts[result.health, default: 0] += 1 }
        let instructions = await observer.instructions.filter { !$0.cancel }.count
        var p50 = 0.0, p99 = 0.0
        for engine in engines {
            let s = await engine.status()
            p50 = max(p50, s.latencyP50Ms)
            p99 = max(p99, s.latencyP99Ms)
        }
        return String(format: "t=%5.1fs index %8.2f | margined %d | healthy %d below_im %d liquidatable %d bankrupt %d stale %d | instructions %d | re-margin p50 %.1f ms p99 %.1f ms",
                      simulatedSeconds, index, latest.count, counts[.healthy] ?? 0, counts[.belowIm] ?? 0, counts[.liquidatable] ?? 0,
                      counts[.bankrupt] ?? 0, counts[.stale] ?? 0, instructions, p50, p99)
    }

    static func name(_ health: Margin_V1_HealthState) -> String {
        switch health {
        case .healthy: return "healthy"
        case .belowIm: return "below_im"
        case .liquidatable: return "liquidatable"
        case .bankrupt: return "bankrupt"
        case .stale: return "stale"
        case .error: return "error"
        default: return "unknown"
        }
    }

    static func format(_ value: Double) -> String {
        abs(value) >= 100 ? String(format: "%.1f", value) : String(format: "%.4f", value)
    }
}
