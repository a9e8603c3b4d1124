import CommandLineSupport
import Foundation
import MarginEngineCore

/// `--worker`: the worker in-process or through Kafka, at each size.
extension BenchCommand {
    func runWorker() async throws {
        let sizes = workerAccounts.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
        guard !sizes.isEmpty else { failInput("--worker-accounts needs positive sizes, e.g. 100000,1000000") }
        let parameters = try BenchParameters(params)
        if throughKafka {
            try await runWorkerThroughKafka(sizes: sizes, parameters: parameters)
            return
        }
        var runs: [[String: Any]] = []
        for size in sizes {
            let figures = try await WorkerBench.run(accounts: size, parameters: parameters.parameters, ticks: max(1, ticks), marketResults: marketResults)
            let row = figures.json.merging(parameters.json) { $1 }
            runs.append(row)
            if !json {
                func f(_ key: String, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", (row[key] as? Double) ?? 0) }
                print("worker in-process, \(size) accounts (\(f("mean_positions")) positions on average, \(figures.partitions) shards, market_results \(marketResults.rawValue), \(parameters.description)):")
                print("  ingest (decode, validate, compile, index, first margin): \(f("ingest_accounts_per_second", 0)) accounts/s (\(f("ingest_seconds", 2)) s)")
                print("  BTC tick → all exposed accounts re-margined and results handed to the publisher: p50 \(f("tick_ms_p50")) ms, p99 \(f("tick_ms_p99")) ms over \(figures.tickSeconds.count) ticks (\(f("results_per_tick", 0)) results per tick)")
                print("  re-margin pass alone: p50 \(f("remargin_pass_ms_p50")) ms, p99 \(f("remargin_pass_ms_p99")) ms")
                let phases = (row["tick_phase_ms_p50"] as? [String: Double]) ?? [:]
                let split = TickProfile.Phase.allCases.compactMap { phase in phases[phase.rawValue].map { "\(phase.rawValue) \(String(format: "%.0f", $0))" } }
                print("  where a tick goes, p50 ms: \(split.joined(separator: " · ")) (engine); encoding and hand-over \(f("publisher_ms_p50", 0)) (publisher)")
                print("  what-if of a 10-position account during the ticks (from the engine's snapshot): p50 \(f("what_if_during_pass_ms_p50", 2)) ms, p99 \(f("what_if_during_pass_ms_p99", 2)) ms over \(f("what_if_during_pass_count", 0)) requests")
                print("  resident memory: \(f("rss_bytes_per_account", 0)) bytes per account (\(f("rss_bytes_per_10_positions", 0)) per 10 positions); \(f("rss_trimmed_bytes_per_account", 0)) after malloc_trim")
                print("  a tick reads ≈ \(f("tick_bytes_streamed_estimate", 0)) bytes of risk rows (estimate); at \(String(format: "%.1f", ((row["read_bandwidth_bytes_per_second"] as? Double) ?? 0) / 1e9)) GB/s measured read bandwidth that is \(f("tick_bandwidth_bound_ms")) ms")
            }
        }
        let machine = Self.machine()
        if json {
            print(jsonLine(["worker": runs, "machine": machine]))
        } else {
            print("machine: \(machine["cpu"] ?? "?"), \(machine["cores"] ?? 0) cores, \(machine["build"] ?? "?") build")
        }
    }

    /// `--kafka name=value` pairs.
    var workerKafka: [String: String] {
        var properties: [String: String] = [:]
        for pair in kafka {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { failInput("--kafka needs name=value, got \(pair)") }
            properties[parts[0]] = parts[1]
        }
        return properties
    }

    func runWorkerThroughKafka(sizes: [Int], parameters: BenchParameters) async throws {
        var runs: [[String: Any]] = []
        for size in sizes {
            let figures = try await WorkerKafkaBench.run(accounts: size, partitions: workerPartitions, ticks: max(1, ticks), brokers: brokers,
                                                         workerKafka: workerKafka, marketResults: marketResults, parameters: parameters.parameters)
            var row = figures.json.merging(parameters.json) { $1 }
            row["market_results"] = marketResults.rawValue
            runs.append(row)
            if !json {
                func f(_ key: String, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", (row[key] as? Double) ?? 0) }
                print("worker through Kafka, \(size) accounts (\(f("mean_positions")) positions on average, \(f("account_record_bytes", 0)) bytes per record), \(figures.partitions) partitions, broker \(figures.broker), market_results \(marketResults.rawValue), \(parameters.description)):")
                print("  produce: \(f("produce_accounts_per_second", 0)) accounts/s; a bare consumer reads them at \(f("bare_consumer_accounts_per_second", 0)) accounts/s (\(f("bare_consumer_2000_buffer_accounts_per_second", 0)) accounts/s with the worker's 2,000-event buffer)")
                print("  group join: \(f("group_join_seconds", 2)) s; ingest (first shard assigned → every account's first result committed and read): \(f("ingest_accounts_per_second", 0)) accounts/s (\(f("ingest_seconds", 2)) s; shards restored after \(f("shards_restored_seconds", 2)) s)")
                print("  BTC tick produced → every changed result committed and read by a read_committed consumer: p50 \(f("tick_ms_p50")) ms, p99 \(f("tick_ms_p99")) ms over \(figures.tickReadSeconds.count) ticks (\(f("results_per_tick", 0)) results per tick, \(f("result_record_bytes", 0)) bytes each)")
                if !figures.droppedByEmbeddedBroker.isEmpty {
                    print("  the embedded broker dropped records (it keeps about 5 MiB per partition): \(figures.droppedByEmbeddedBroker.count) partitions, e.g. \(figures.droppedByEmbeddedBroker.sorted { $0.key < $1.key }.prefix(3).map { "\($0.key) from \($0.value)" }.joined(separator: ", "))")
                }
                if figures.abortedTransactions > 0 { print("  aborted transactions: \(figures.abortedTransactions)") }
                if !figures.complete { print("  INCOMPLETE: not every result arrived in time (see standard error)") }
            }
        }
        let machine = Self.machine()
        if json {
            print(jsonLine(["worker_through_kafka": runs, "machine": machine]))
        } else {
            print("machine: \(machine["cpu"] ?? "?"), \(machine["cores"] ?? 0) cores, \(machine["build"] ?? "?") build")
        }
    }
}
