import CommandLineSupport
import Foundation
import KafkaClient
import Logging
import MarginCore
import MarginDemo
import MarginEngineCore
import MarginSchema
import MarginWorker
import Metrics
import ServiceLifecycle
import Synchronization

/// `margin-engine-bench --worker --through-kafka`: the real worker (`MarginWorkerService`, as
/// `margin-engine run` starts it: reference consumer, accounts consumer group, restore, transactional
/// outputs) against librdkafka's embedded mock cluster, or against a broker given with `--brokers`.
/// Measures from outside the engine:
/// - produce: the demo generator's account records written to the accounts topic (accounts/s);
/// - ingest: from the first shard assigned to the worker until every account's first result is
///   committed and read by a separate `read_committed` consumer of the results topic, in
///   accounts/s — the restore of every partition from the topic; the consumer group's join time
///   is reported apart, and a bare consumer's read of the same topic shows the broker's own rate;
/// - a BTC tick (±1 %, produced to the market topic): time until every changed result is committed
///   and read by that consumer (p50/p99 over the ticks). How many results a tick publishes comes
///   from the worker's `margin_results_published_total` (counted when a transaction commits).
enum WorkerKafkaBench {
    /// Commit-side figures of the worker, from its swift-metrics counters (bootstrapped once per process).
    static let committed = CommittedCounter()

    struct Figures {
        var accounts: Int
        var partitions: Int
        var broker: String
        var meanPositions: Double
        var accountRecordBytes: Double
        var produceSeconds: Double
        var rawReadSeconds: Double
        var rawReadSmallBufferSeconds: Double
        var joinSeconds: Double
        var ingestSeconds: Double
        var restoreSeconds: Double
        var tickReadSeconds: [Double]
        var resultsPerTick: Double
        var resultRecordBytes: Double
        var abortedTransactions: Int
        var droppedByEmbeddedBroker: [String: Int64]
        var complete: Bool

        var json: [String: Any] {
            func quantile(_ values: [Double], _ q: Double) -> Double { WorkerBench.quantileMs(values, q) }
            return [
                "accounts": accounts, "partitions": partitions, "broker": broker, "mean_positions": meanPositions,
                "account_record_bytes": accountRecordBytes,
                "produce_accounts_per_second": Double(accounts) / produceSeconds,
                "bare_consumer_accounts_per_second": Double(accounts) / rawReadSeconds,
                "bare_consumer_2000_buffer_accounts_per_second": Double(accounts) / rawReadSmallBufferSeconds,
                "group_join_seconds": joinSeconds,
                "ingest_accounts_per_second": ingestSeconds > 0 ? Double(accounts) / ingestSeconds : 0, "ingest_seconds": ingestSeconds,
                "shards_restored_seconds": restoreSeconds,
                "tick_ms_p50": quantile(tickReadSeconds, 0.5), "tick_ms_p99": quantile(tickReadSeconds, 0.99),
                "ticks": tickReadSeconds.count, "tick_ms": tickReadSeconds.map { ($0 * 1e4).rounded() / 10 }, "results_per_tick": resultsPerTick, "result_record_bytes": resultRecordBytes,
                "aborted_transactions": abortedTransactions, "dropped_by_embedded_broker": droppedByEmbeddedBroker,
                "complete": complete,
            ]
        }
    }

    /// The embedded broker keeps about 5 MiB per partition, dropping the oldest records past that
    /// (also inside an open transaction): enough partitions that the accounts topic and the first
    /// results (≈ 1.4 KB each) fit in 3 MiB per partition, at least 8.
    static func partitions(accounts: Int, accountBytes: Int) -> Int {
        let bytes = max(accountBytes, accounts * 1_500)
        return max(8, (bytes + 3 * 1_048_576 - 1) / (3 * 1_048_576))
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Seconds a plain consumer (manual assignment, from the beginning, `capacity` events buffered)
    /// takes to read `records` records of `topic`.
    static func readWhole(bootstrap: String, topic: String, records: Int, capacity: Int, logger: Logger) async throws -> Double {
        let consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(
            common: KafkaConfiguration(bootstrapServers: bootstrap, clientID: "bench-bare-reader", properties: ["log_level": "2"]),
            fetchWaitMaxMs: 10, bufferCapacity: capacity), logger: logger)
        let start = now()
        _ = try await consumer.assignWhole(topics: [topic])
        var read = 0
        for await event in consumer.events {
            if case .message = event { read += 1 }
            if read >= records { break }
        }
        let seconds = Double(now() - start) / 1e9
        await consumer.close()
        return seconds
    }

    static func run(accounts count: Int, partitions requested: Int?, ticks: Int, brokers: String?,
                    workerKafka: [String: String] = [:], marketResults: EngineSettings.MarketResults = EngineSettings().marketResults,
                    parameters: RiskParameters) async throws -> Figures {
        installMetrics
        let market = try DemoMarket()
        let accounts = try AccountGenerator(seed: 42).generate(count: count, market: market, calculator: MarginCalculator(parameters: parameters))
        let records = try accounts.map { account throws(MarginError) in (account.id, try SchemaCoding.encode(account.proto, format: .protobuf)) }
        let accountBytes = records.reduce(0) { $0 + $1.1.count }
        var quiet = Logger(label: "worker-bench-kafka")
        quiet.logLevel = .error
        let topics = TopicNames()

        // The broker: embedded (topics created here), or a fresh one given with --brokers whose
        // topics exist (scripts/real-broker-test.py create-topics BROKERS PARTITIONS).
        var cluster: EmbeddedKafkaCluster?
        let bootstrap: String
        let partitionCount: Int
        if let brokers {
            bootstrap = brokers
            let probe = try KafkaConsumer(configuration: KafkaConsumerConfiguration(
                common: KafkaConfiguration(bootstrapServers: brokers, clientID: "bench-probe", properties: ["log_level": "2"])), logger: quiet)
            let found = try await probe.partitions(of: topics.accounts)
            var records = 0 as Int64
            for partition in found { records += try await probe.watermarks(for: TopicPartition(topic: topics.accounts, partition: partition)).high }
            await probe.close()
            guard !found.isEmpty else { failInput("\(topics.accounts) does not exist on \(brokers); create the worker's topics first") }
            guard records == 0 else { failInput("\(topics.accounts) on \(brokers) already holds \(records) records; the benchmark needs fresh topics") }
            partitionCount = found.count
        } else {
            partitionCount = requested ?? partitions(accounts: count, accountBytes: accountBytes)
            let embedded = try EmbeddedKafkaCluster(brokers: 1, logger: quiet)
            try WorkerTopology.create(on: embedded, topics: topics, partitions: Int32(partitionCount))
            cluster = embedded
            bootstrap = embedded.bootstrapServers
        }

        // Reference data and accounts.
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(
            common: KafkaConfiguration(bootstrapServers: bootstrap, clientID: "bench-inputs", properties: ["log_level": "2"]), lingerMs: 5), logger: quiet)
        func send(_ topic: String, _ key: String, _ data: Data) async throws {
            try await producer.enqueue(ProducerRecord(topic: topic, key: Data(key.utf8), value: data))
        }
        func snapshot(_ factor: Double, at ms: Int64) throws(MarginError) -> Data {
            try SchemaCoding.encode(WorkerBench.shockedMarket(market, factor: factor, at: ms).proto, format: .protobuf)
        }
        // The parameter set on the params topic, as a calibrator publishes it (the worker margins with it).
        try await send(topics.params, parameters.id, try SchemaCoding.encode(parameters.proto, format: .protobuf))
        for instrument in market.instruments { try await send(topics.instruments, instrument.name, try SchemaCoding.encode(instrument.proto, format: .protobuf)) }
        try await send(topics.market, "USDC", try SchemaCoding.encode(market.stablecoin(at: market.startMs).proto, format: .protobuf))
        try await send(topics.market, "BTC", try snapshot(1, at: market.startMs))
        try await producer.flush()
        let produceStart = now()
        for (id, value) in records { try await send(topics.accounts, id, value) }
        try await producer.flush()
        let produceSeconds = Double(now() - produceStart) / 1e9

        // The broker's delivery rate to a bare consumer of the accounts topic (no engine): with room
        // for every record, and with the worker's 2,000-event buffer (paused when full, resumed at half).
        let rawReadSeconds = try await readWhole(bootstrap: bootstrap, topic: topics.accounts, records: count, capacity: count + 1_000, logger: quiet)
        let rawReadSmallBufferSeconds = try await readWhole(bootstrap: bootstrap, topic: topics.accounts, records: count, capacity: 2_000, logger: quiet)

        // The downstream reader of the results topic.
        let reader = ResultReader()
        let readerConsumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(
            common: KafkaConfiguration(bootstrapServers: bootstrap, clientID: "bench-reader", properties: ["log_level": "2"]),
            readCommitted: true, fetchWaitMaxMs: 5, bufferCapacity: 4 * count + 10_000), logger: quiet)
        _ = try await readerConsumer.assignWhole(topics: [topics.results])
        let readerTask = Task {
            for await event in readerConsumer.events {
                guard case .message(let message) = event, let value = message.value else { continue }
                reader.bytes.add(value.count, ordering: .relaxed)
                reader.count.add(1, ordering: .relaxed)
                reader.lastNs.store(now(), ordering: .relaxed)
            }
        }

        // The worker, as `margin-engine run` starts it (one instance, simulated clock).
        let milestones = Milestones()
        var logger = Logger(label: "worker-bench-kafka") { _ in MilestoneLogHandler(milestones: milestones) }
        logger.logLevel = .info
        var configuration = WorkerConfiguration()
        configuration.brokers = bootstrap
        configuration.group = "bench-workers-\(UUID().uuidString.prefix(8))"
        configuration.instanceID = "bench"
        configuration.paramsID = parameters.id
        configuration.engine.refreshInterval = .zero
        configuration.engine.staleAfter = .seconds(3_600)
        configuration.engine.marketResults = marketResults
        configuration.kafka = ["log_level": "2"].merging(workerKafka) { $1 }
        let clock = Atomic<Int64>(market.startMs)
        let resultsBefore = committed.results.load(ordering: .relaxed)
        let abortedBefore = committed.aborted.load(ordering: .relaxed)
        let service = MarginWorkerService(configuration: configuration, logger: logger, clock: { clock.load(ordering: .relaxed) })
        let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: quiet))
        let start = now()
        let serviceTask = Task { try await group.run() }

        /// Waits until `condition` holds (polling every 2 ms) or `seconds` pass; false on timeout.
        func wait(seconds: Double, _ condition: () -> Bool) async -> Bool {
            let deadline = now() + UInt64(seconds * 1e9)
            while !condition() {
                if now() > deadline { return false }
                try? await Task.sleep(for: .milliseconds(2))
            }
            return true
        }
        var complete = true
        let budget = 60 + Double(count) / 2_000
        complete = await wait(seconds: budget) { committed.results.load(ordering: .relaxed) - resultsBefore >= count } && complete
        complete = await wait(seconds: 30) { reader.count.load(ordering: .relaxed) >= count } && complete
        let allReadNs = reader.lastNs.load(ordering: .relaxed)
        let stones = milestones.state.withLock { $0 }
        let assigned = stones.firstShardAssignedNs ?? start
        let ingestSeconds = complete ? Double(Int64(allReadNs) - Int64(assigned)) / 1e9 : 0
        let restoreSeconds = Double(Int64(stones.lastShardRestoredNs ?? assigned) - Int64(assigned)) / 1e9
        if !complete {
            FileHandle.standardError.write(Data("bench: \(committed.results.load(ordering: .relaxed) - resultsBefore) of \(count) first results committed, \(reader.count.load(ordering: .relaxed)) read, \(stones.shardsRestored) shards restored\n".utf8))
        }

        // Ticks: ±1 % on BTC, produced like a market-data feed.
        var tickRead: [Double] = []
        var tickResults = 0
        for tick in 1...max(1, ticks) where complete {
            let ms = market.startMs + Int64(tick) * 1_000
            clock.store(ms, ordering: .relaxed)
            let c0 = committed.results.load(ordering: .relaxed)
            let r0 = reader.count.load(ordering: .relaxed)
            let t0 = now()
            try await send(topics.market, "BTC", snapshot(tick % 2 == 0 ? 1 : 0.99, at: ms))
            try await producer.flush()
            // The tick's results are committed in one or a few transactions: wait for the first, then
            // until nothing more is committed for 300 ms (six coalescing windows).
            guard await wait(seconds: 60, { committed.results.load(ordering: .relaxed) > c0 }) else { complete = false; break }
            var last = committed.results.load(ordering: .relaxed)
            while true {
                try await Task.sleep(for: .milliseconds(300))
                let current = committed.results.load(ordering: .relaxed)
                if current == last { break }
                last = current
            }
            let published = last - c0
            guard await wait(seconds: 30, { reader.count.load(ordering: .relaxed) >= r0 + published }) else { complete = false; break }
            tickRead.append(Double(reader.lastNs.load(ordering: .relaxed) - t0) / 1e9)
            tickResults += published
        }

        await group.triggerGracefulShutdown()
        do { try await serviceTask.value } catch { FileHandle.standardError.write(Data("bench: worker stopped with \(error)\n".utf8)) }
        try await producer.close()
        await readerConsumer.close()
        _ = await readerTask.value
        var dropped: [String: Int64] = [:]
        if cluster != nil {
            var silent = quiet
            silent.logLevel = .critical
            let monitor = try EmbeddedLogStartMonitor(bootstrapServers: bootstrap, topics: topics.all, logger: silent)
            dropped = Dictionary(uniqueKeysWithValues: await monitor.check().map { ("\($0.key.topic)[\($0.key.partition)]", $0.value) })
            await monitor.close()
        }
        withExtendedLifetime(cluster) {}
        let read = reader.count.load(ordering: .relaxed)
        return Figures(
            accounts: count, partitions: partitionCount,
            broker: brokers ?? "embedded (librdkafka mock cluster, 1 broker)",
            meanPositions: Double(accounts.reduce(0) { $0 + $1.positions.count }) / Double(max(1, count)),
            accountRecordBytes: Double(accountBytes) / Double(max(1, count)),
            produceSeconds: produceSeconds, rawReadSeconds: rawReadSeconds, rawReadSmallBufferSeconds: rawReadSmallBufferSeconds, joinSeconds: Double(Int64(assigned) - Int64(start)) / 1e9,
            ingestSeconds: ingestSeconds, restoreSeconds: restoreSeconds,
            tickReadSeconds: tickRead,
            resultsPerTick: tickRead.isEmpty ? 0 : Double(tickResults) / Double(tickRead.count),
            resultRecordBytes: read > 0 ? Double(reader.bytes.load(ordering: .relaxed)) / Double(read) : 0,
            abortedTransactions: committed.aborted.load(ordering: .relaxed) - abortedBefore,
            droppedByEmbeddedBroker: dropped, complete: complete)
    }
}
