import Foundation
import KafkaClient
import Logging
import MarginCore
import MarginDemo
import MarginEngineCore
import MarginSchema
import MarginWorker
import Synchronization

/// `margin-engine-bench --worker`: the worker's engine in-process, without Kafka — the accounts
/// topic's records (protobuf, as a consumer delivers them) go straight into the engine and its
/// outputs into a counting sink. Measures what the engine itself costs:
/// - ingest: decode, validate, compile the exposure, index, and the first margin of every account
///   (the restore of a shard), in accounts per second;
/// - a market tick on BTC: the coalescing window's work until every exposed account is re-margined
///   and every changed result is handed to the publisher (p50/p99 over the ticks);
/// - resident memory per account (RSS delta over the ingest / accounts).
/// Accounts come from the demo's generator (1–20 positions, Pareto-sized) on the 2020 Deribit chain.
enum WorkerBench {
    struct Figures {
        var accounts: Int
        var partitions: Int
        var marketResults: EngineSettings.MarketResults
        var meanPositions: Double
        var ingestSeconds: Double
        var tickSeconds: [Double]
        /// Per tick, where the engine spent it (``TickProfile``), and the publisher's conversion,
        /// encoding and hand-over of its results afterwards.
        var phaseSeconds: [TickProfile.Phase: [Double]]
        var publisherSeconds: [Double]
        var remarginPassP50Ms: Double
        var remarginPassP99Ms: Double
        var resultsPerTick: Double
        var rssBytesPerAccount: Double
        /// The same after `malloc_trim` (the held state without the allocator's retained free heap).
        var rssTrimmedBytesPerAccount: Double
        /// Latencies of what-if requests (a 10-position account, from the engine's snapshot) during the ticks.
        var whatIfSeconds: [Double]
        /// Bytes a tick's pass reads from the risk book (estimate) and this machine's read bandwidth.
        var tickBytes: Double
        var readBandwidth: Double

        var json: [String: Any] {
            func quantile(_ q: Double) -> Double { WorkerBench.quantileMs(tickSeconds, q) }
            return [
                "accounts": accounts, "partitions": partitions, "market_results": marketResults.rawValue, "mean_positions": meanPositions,
                "ingest_accounts_per_second": Double(accounts) / ingestSeconds, "ingest_seconds": ingestSeconds,
                "tick_ms_p50": quantile(0.5), "tick_ms_p99": quantile(0.99), "ticks": tickSeconds.count,
                "tick_phase_ms_p50": Dictionary(uniqueKeysWithValues: phaseSeconds.map { ($0.key.rawValue, WorkerBench.quantileMs($0.value, 0.5)) }),
                "publisher_ms_p50": WorkerBench.quantileMs(publisherSeconds, 0.5),
                "remargin_pass_ms_p50": remarginPassP50Ms, "remargin_pass_ms_p99": remarginPassP99Ms,
                "results_per_tick": resultsPerTick, "rss_bytes_per_account": rssBytesPerAccount,
                "rss_trimmed_bytes_per_account": rssTrimmedBytesPerAccount,
                "rss_bytes_per_10_positions": meanPositions > 0 ? rssBytesPerAccount * 10 / meanPositions : 0,
                "what_if_during_pass_ms_p50": WorkerBench.quantileMs(whatIfSeconds, 0.5),
                "what_if_during_pass_ms_p99": WorkerBench.quantileMs(whatIfSeconds, 0.99), "what_if_during_pass_count": Double(whatIfSeconds.count),
                "tick_bytes_streamed_estimate": tickBytes, "read_bandwidth_bytes_per_second": readBandwidth,
                "tick_bandwidth_bound_ms": readBandwidth > 0 ? tickBytes / readBandwidth * 1e3 : 0,
            ]
        }
    }

    static func run(accounts count: Int, parameters: RiskParameters, partitions: Int = 8, ticks: Int = 20,
                    marketResults: EngineSettings.MarketResults = EngineSettings().marketResults) async throws -> Figures {
        let market = try DemoMarket()
        let accounts = try AccountGenerator(seed: 42).generate(count: count, market: market, calculator: MarginCalculator(parameters: parameters))
        var configuration = WorkerConfiguration()
        configuration.engine.refreshInterval = .zero
        configuration.engine.staleAfter = .seconds(3_600)
        configuration.instanceID = "bench"
        configuration.paramsID = parameters.id
        configuration.engine.marketResults = marketResults
        var logger = Logger(label: "worker-bench")
        logger.logLevel = .error
        let published = Atomic<Int>(0)
        let outputs = OutputPublisher(configuration: configuration, logger: logger) { records in
            published.add(records.count, ordering: .relaxed)
        }
        let now = Atomic<Int64>(market.startMs)
        let engine = MarginEngine(settings: configuration.engine, preset: parameters, logger: logger, clock: { now.load(ordering: .relaxed) })
        // Records go through the worker's decoder, as the service hands them to the engine.
        let decoder = InputDecoder(topics: configuration.topics, bounds: configuration.inputBounds)
        func reference(_ message: KafkaMessage) async {
            if let event = decoder.referenceEvent(.message(message)) { await engine.handleReference(event) }
        }
        let flusher = OutputFlusher(engine: engine, outputs: outputs)
        let topics = configuration.topics

        // Reference data, read whole.
        func snapshot(_ factor: Double, at ms: Int64) throws(MarginError) -> KafkaMessage {
            let state = shockedMarket(market, factor: factor, at: ms)
            return KafkaMessage(topic: topics.market, partition: 0, offset: ms - market.startMs, key: Data("BTC".utf8),
                                value: try SchemaCoding.encode(state.proto, format: .protobuf), headers: [], timestampMs: ms)
        }
        let instruments = try market.instruments.enumerated().map { index, instrument throws(MarginError) in
            KafkaMessage(topic: topics.instruments, partition: 0, offset: Int64(index), key: Data(instrument.name.utf8),
                         value: try SchemaCoding.encode(instrument.proto, format: .protobuf), headers: [], timestampMs: market.startMs)
        }
        let usdc = KafkaMessage(topic: topics.market, partition: 0, offset: 1_000_000_000, key: Data("USDC".utf8),
                                value: try SchemaCoding.encode(market.stablecoin(at: market.startMs).proto, format: .protobuf), headers: [], timestampMs: market.startMs)
        await engine.setReferenceTargets([InputPartition(topic: topics.instruments, partition: 0): Int64(instruments.count)])
        for message in instruments { await reference(message) }
        await reference(try snapshot(1, at: market.startMs))
        await reference(usdc)
        // As the service does before it joins the accounts group: a tick builds the markets' books.
        await engine.tick()

        // The accounts topic's records, by partition, as a consumer would deliver them.
        var byPartition: [[KafkaMessage]] = Array(repeating: [], count: partitions)
        for account in accounts {
            let partition = Int(KafkaPartitioner.partition(forKey: Data(account.id.utf8), partitionCount: Int32(partitions)))
            byPartition[partition].append(KafkaMessage(
                topic: topics.accounts, partition: Int32(partition), offset: Int64(byPartition[partition].count), key: Data(account.id.utf8),
                value: try SchemaCoding.encode(account.proto, format: .protobuf), headers: [], timestampMs: market.startMs))
        }
        let targets = byPartition.map { Int64($0.count) }

        let rssBefore = residentBytes()
        let start = ContinuousClock.now
        await engine.assignShards((0..<partitions).map { ShardAssignment(partition: Int32($0), restoreTarget: targets[$0]) })
        // In batches, as the service hands over what its consumer has buffered.
        for messages in byPartition {
            for start in stride(from: 0, to: messages.count, by: configuration.inputBatchLimit) {
                let batch = messages[start..<min(messages.count, start + configuration.inputBatchLimit)]
                await engine.handleAccounts(batch.compactMap { decoder.accountsEvent(.message($0)) })
            }
        }
        await engine.tick()
        await flusher.flush()
        let ingest = ContinuousClock.now - start
        let rssAfter = residentBytes()
        // What the held state needs: freed heap returned to the system first (glibc keeps what the
        // ingest's transient results used; the figure above includes it).
        trimHeap()
        let rssTrimmed = residentBytes()

        var tickSeconds: [Double] = []
        var phaseSeconds: [TickProfile.Phase: [Double]] = [:]
        var publisherSeconds: [Double] = []
        var whatIfSeconds: [Double] = []
        let whatIfAccount = Self.whatIfAccount(market)
        let whatIfExecutor = DedicatedExecutor(label: "bench.what-if")
        var results = 0
        for tick in 1...ticks {
            let ms = market.startMs + Int64(tick) * 1_000
            now.store(ms, ordering: .relaxed)
            let before = published.load(ordering: .relaxed)
            await reference(try snapshot(tick % 2 == 0 ? 1 : 0.99, at: ms))
            let t0 = ContinuousClock.now
            // What-if requests of a 10-position account during the pass, as HTTP serves them (from
            // the engine's published snapshot, on their own executor): 50 per second until the tick is done.
            let passing = Atomic<Bool>(true)
            let probe = Task.detached(executorPreference: whatIfExecutor) { () -> [Double] in
                var latencies: [Double] = []
                while passing.load(ordering: .relaxed) {
                    let w0 = ContinuousClock.now
                    guard let snapshot = engine.view.snapshot else { break }
                    do { _ = try snapshot.whatIf(whatIfAccount) } catch {
                        FileHandle.standardError.write(Data("bench: the what-if failed, probe stopped: \(error)\n".utf8))
                        break
                    }
                    latencies.append(seconds(ContinuousClock.now - w0))
                    try? await Task.sleep(for: .milliseconds(20))
                }
                return latencies
            }
            await engine.tick()
            let t1 = ContinuousClock.now
            await flusher.flush()
            let t2 = ContinuousClock.now
            tickSeconds.append(seconds(t2 - t0))
            publisherSeconds.append(seconds(t2 - t1))
            for (phase, nanoseconds) in await engine.lastTickProfile.nanoseconds { phaseSeconds[phase, default: []].append(Double(nanoseconds) / 1e9) }
            passing.store(false, ordering: .relaxed)
            whatIfSeconds += await probe.value
            results += published.load(ordering: .relaxed) - before
        }
        let status = await engine.status()
        return Figures(accounts: count, partitions: partitions, marketResults: marketResults,
                       meanPositions: Double(accounts.reduce(0) { $0 + $1.positions.count }) / Double(max(1, count)),
                       ingestSeconds: seconds(ingest), tickSeconds: tickSeconds, phaseSeconds: phaseSeconds, publisherSeconds: publisherSeconds,
                       remarginPassP50Ms: status.latencyP50Ms, remarginPassP99Ms: status.latencyP99Ms,
                       resultsPerTick: Double(results) / Double(ticks),
                       rssBytesPerAccount: Double(max(0, rssAfter - rssBefore)) / Double(max(1, count)),
                       rssTrimmedBytesPerAccount: Double(max(0, rssTrimmed - rssBefore)) / Double(max(1, count)),
                       whatIfSeconds: whatIfSeconds,
                       tickBytes: tickBytesEstimate(accounts: accounts, catalog: InstrumentCatalog(market.instruments), parameters: parameters),
                       readBandwidth: readBandwidth())
    }

    /// The BTC opening snapshot with index, perpetual mark and forwards moved by `factor`, dated
    /// `ms`: the benchmarks' market tick.
    static func shockedMarket(_ market: DemoMarket, factor: Double, at ms: Int64) -> UnderlyingMarket {
        var state = market.snapshot(at: market.startMs, path: CrashPath())
        state.timestampMs = ms
        state.indexPrice *= factor
        state.perpetualMark = state.perpetualMark.map { $0 * factor }
        state.expiries = state.expiries.map { var e = $0; e.forward *= factor; return e }
        return state
    }

    /// A 10-position what-if account on the demo chain: nine options from a third into the chain's
    /// list, alternately long and short one contract, and the inverse perpetual.
    static func whatIfAccount(_ market: DemoMarket) -> Account {
        let options = market.instruments.filter {
            if case .option = $0.kind { return true } else { return false }
        }
        let picked = Array(options.dropFirst(options.count / 3).prefix(9))
        var positions = picked.enumerated().map { Position(instrument: $1.name, quantity: $0 % 2 == 0 ? 1 : -1) }
        positions.append(Position(instrument: DemoMarket.perpetual, quantity: 1_000, averageEntryPrice: market.index))
        return Account(id: "what-if", balances: ["USDC": 100_000], positions: positions)
    }

    /// The `q` quantile (nearest rank) of durations in seconds, in milliseconds; 0 without samples.
    static func quantileMs(_ seconds: [Double], _ q: Double) -> Double {
        let sorted = seconds.sorted()
        return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((q * Double(sorted.count - 1)).rounded()))] * 1e3
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    /// glibc's `malloc_trim(0)` (from <malloc.h>, which Swift's Glibc module does not export),
    /// looked up at run time; nothing where it is absent.
    static func trimHeap() {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
        typealias MallocTrim = @convention(c) (Int) -> Int32
        _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
    }

    /// Resident set size from /proc/self/statm (bytes; 0 where unavailable).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
