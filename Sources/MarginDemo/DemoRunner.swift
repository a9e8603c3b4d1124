import Foundation
import KafkaClient
import Logging
import MarginCalibrator
import MarginCore
import MarginEngineCore
import MarginSchema
import MarginWorker
import ServiceLifecycle
import Synchronization

/// Runs the whole product on one machine: embedded Kafka, two worker instances in one consumer
/// group (the real worker code over loopback), the live calibrator, the Deribit chain as market,
/// generated accounts, a crash replayed as market snapshots, and a separate consumer reading the
/// outputs as a downstream service would.
public final class DemoRunner: Sendable {
    public let options: DemoOptions
    let logger: Logger

    public init(options: DemoOptions, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    /// A running worker instance or calibrator and the task that runs its service group.
    struct Role {
        var group: ServiceGroup
        var task: Task<Void, any Error>
        var engine: MarginEngine?
    }

    public func run(print say: @escaping @Sendable (String) -> Void, status: @escaping @Sendable (String) -> Void) async throws -> DemoSummary {
        let wallStart = Date()
        let market = try DemoMarket()
        let opening = market.snapshot(at: market.startMs, path: options.path)
        let seed = try DemoCalibration.seed(before: UTCDay.day(ofUnixMs: market.startMs))
        var calibratorConfiguration = DemoCalibration.configuration(brokers: "")
        let parameters = try DemoCalibration.initialParameters(seed: seed, configuration: calibratorConfiguration, opening: opening)
        say("market: Deribit BTC chain of \(DemoMarket.expiryLabel(market.startMs)), index \(String(format: "%.2f", market.index)), \(market.instruments.count) instruments")
        var fit: [String: Double] = [:]
        for e in market.expiries {
            fit[DemoMarket.expiryLabel(e.expiryMs)] = e.rmsError * 100
            say(String(format: "  SVI fit %@: %d quotes, rms error %.2f vol points", DemoMarket.expiryLabel(e.expiryMs), e.quotes, e.rmsError * 100))
        }
        let accounts = try AccountGenerator(seed: options.seed).generate(count: options.accounts, market: market,
                                                                       calculator: MarginCalculator(parameters: parameters))
        say("accounts: \(accounts.count) generated (seed \(options.seed))")

        let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: logger)
        let topics = TopicNames()
        try WorkerTopology.create(on: cluster, topics: topics, partitions: options.partitions)
        say("embedded Kafka at \(cluster.bootstrapServers); topics created")
        let inputs = try DemoInputs(bootstrapServers: cluster.bootstrapServers, topics: topics, logger: logger)
        try await inputs.publishOpening(market: market, path: options.path, accounts: accounts)
        let clock = Atomic<Int64>(market.startMs)

        // The separate downstream consumer.
        let observer = DemoObserver()
        let reader = try KafkaConsumer(configuration: KafkaConsumerConfiguration(
            common: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, clientID: "demo-reader", properties: ["log_level": "2"]),
            fetchWaitMaxMs: 10, bufferCapacity: 20_000, partitionEndEvents: true), logger: logger)
        let outputPartitions = try await reader.assignWhole(topics: [topics.results, topics.liquidations])
        let readerTask = Task { for await event in reader.events { await observer.add(event, topics: topics) } }

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
        let calibratorRole = start(calibrator, engine: nil)
        let workers = ["demo-a", "demo-b"].map { name in
            let service = MarginWorkerService(configuration: workerConfiguration(name, brokers: cluster.bootstrapServers), logger: logger,
                                              clock: { clock.load(ordering: .relaxed) })
            return start(service, engine: service.engine)
        }
        let engines = workers.compactMap(\.engine)
        say("workers demo-a and demo-b started; margining \(accounts.count) accounts…")
        let total = accounts.count
        await observer.wait { $0.latestCount >= total }
        let before = await observer.latest
        say(String(format: "all %d accounts margined after %.1f s", total, Date().timeIntervalSince(wallStart)))

        let lastTimestamp = try await replayCrash(market: market, inputs: inputs, clock: clock, observer: observer, engines: engines, status: status)
        try await waitUntilProcessed(lastTimestamp, engines: engines)
        var observations = DemoObservations(
            options: options, market: market, wallStart: wallStart, fit: fit, before: before, after: [:], instructions: [], resultCount: 0,
            lastTimestamp: lastTimestamp, p50: 0, p99: 0, maxQueued: 0, queuedNow: [], waitingAtEnd: [:], calibration: [], dropped: [:])
        for engine in engines {
            let s = await engine.status()
            observations.p50 = max(observations.p50, s.latencyP50Ms)
            observations.p99 = max(observations.p99, s.latencyP99Ms)
            observations.maxQueued += s.maxQueuedLiquidations
            observations.queuedNow.formUnion(s.queuedAccounts)
            for reason in s.waitingReasons.values { observations.waitingAtEnd[reason, default: 0] += 1 }
        }
        if options.showStatus {
            status(await statusLine(simulatedSeconds: Double(lastTimestamp - market.startMs) / 1000,
                                    index: market.snapshot(at: lastTimestamp, path: options.path).indexPrice, observer: observer, engines: engines))
        }

        // Graceful shutdown (the workers commit their last batches), then the reader catches up
        // with what those commits released.
        for role in workers + [calibratorRole] { await role.group.triggerGracefulShutdown() }
        for role in workers {
            do { try await role.task.value } catch { logger.error("demo worker stopped with an error: \(error)") }
        }
        do { try await calibratorRole.task.value } catch { logger.error("demo calibrator stopped with an error: \(error)") }
        await inputs.close()
        var targets: [TopicPartition: Int64] = [:]
        for partition in outputPartitions { targets[partition] = try await reader.watermarks(for: partition).high }
        await observer.wait { [targets] in $0.reached(targets) }
        await reader.close()
        let monitor = try EmbeddedLogStartMonitor(bootstrapServers: cluster.bootstrapServers, topics: topics.all, logger: logger)
        observations.dropped = await monitor.check()
        await monitor.close()
        _ = await readerTask.value

        observations.after = await observer.latest
        observations.instructions = await observer.instructions
        observations.resultCount = await observer.resultCount
        for record in await observer.undecodable { logger.error("the demo's reader cannot decode \(record)") }
        observations.calibration = calibrationLog.withLock { $0 }
        return DemoSummary(observations)
    }

    /// A worker instance of the demo's consumer group.
    func workerConfiguration(_ name: String, brokers: String) -> WorkerConfiguration {
        var configuration = WorkerConfiguration()
        configuration.brokers = brokers
        configuration.group = "demo-workers"
        configuration.instanceID = name
        configuration.sessionTimeout = .seconds(4)
        configuration.engine.publishThreshold = 0.05
        configuration.engine.refreshInterval = .zero
        configuration.engine.marketResults = options.marketResults
        configuration.kafka = ["log_level": "2"]
        configuration.liquidation.budgetFraction = 0.5
        configuration.paramsID = DemoCalibration.paramsID
        return configuration
    }

    func start(_ service: some Service, engine: MarginEngine?) -> Role {
        let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: logger))
        return Role(group: group, task: Task { try await group.run() }, engine: engine)
    }

    /// Replays the crash, time-compressed; returns the last snapshot's market time.
    func replayCrash(market: DemoMarket, inputs: DemoInputs, clock: borrowing Atomic<Int64>, observer: DemoObserver, engines: [MarginEngine],
                     status: @Sendable (String) -> Void) async throws -> Int64 {
        let steps = Int((options.path.totalSeconds / options.stepSeconds).rounded(.up))
        var lastTimestamp = market.startMs
        let interactive = isatty(1) != 0
        var lastStatus = Date.distantPast
        for step in 1...steps {
            let simulated = market.startMs + Int64(Double(step) * options.stepSeconds * 1000)
            clock.store(simulated, ordering: .relaxed)
            let snapshot = market.snapshot(at: simulated, path: options.path)
            try await inputs.publishTick(snapshot, stablecoin: market.stablecoin(at: simulated))
            lastTimestamp = simulated
            try await Task.sleep(for: .milliseconds(Int(options.stepSeconds / options.speed * 1000))) // the replay's pace
            if options.showStatus, Date().timeIntervalSince(lastStatus) >= (interactive ? 0.25 : 2) {
                lastStatus = Date()
                status(await statusLine(simulatedSeconds: Double(simulated - market.startMs) / 1000, index: snapshot.indexPrice,
                                        observer: observer, engines: engines))
            }
        }
        return lastTimestamp
    }

    /// Waits until every worker holding accounts has re-margined on the last snapshot, published
    /// everything, and run two more windows (the final plans, published).
    func waitUntilProcessed(_ lastTimestamp: Int64, engines: [MarginEngine]) async throws {
        var ticks: [Int] = []
        for engine in engines {
            while true {
                let s = await engine.status()
                if (s.accounts == 0 || (s.processedMarketMs["BTC"] ?? 0) >= lastTimestamp) && s.pendingOutputs == 0 {
                    ticks.append(s.ticks)
                    break
                }
                try await Task.sleep(for: .milliseconds(50)) // polling worker state: the pass is asynchronous
            }
        }
        for (engine, start) in zip(engines, ticks) {
            while await engine.status().ticks < start + 3 { try await Task.sleep(for: .milliseconds(20)) }
        }
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

}
