import ArgumentParser
import CKernelBaseline
import CommandLineSupport
import Foundation
import MarginCore
import MarginEngineCore
import MarginTesting

/// `margin-engine-bench`: times the hot paths on synthetic data on this machine.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "margin-engine-bench",
        abstract: "Time risk-array build and account aggregation on synthetic data against the C baselines (build with -c release).",
    )

    @Flag(help: "Print the figures as JSON.")
    var json = false

    @Option(help: "Number of synthetic accounts for the aggregation benchmark (and, up to 10,000, for the small in-process worker run).")
    var accounts: Int = 20_000

    @Option(help: "Strikes per expiry (5 expiries, calls and puts).")
    var strikes: Int = 40

    @Flag(help: "Benchmark the worker's engine in-process instead (ingest, market ticks, memory per account).")
    var worker = false

    @Option(name: .customLong("worker-accounts"), help: "Accounts held by the in-process worker (comma-separated sizes run in turn).")
    var workerAccounts: String = "100000"

    @Option(help: "Market ticks timed by the worker benchmark.")
    var ticks: Int = 20

    @Flag(help: "Measure growth instead: positions per account, options per underlying and FHS scenarios, three sizes each.")
    var growth = false

    @Flag(name: .customLong("through-kafka"), help: "With --worker: run the real worker service through Kafka (embedded mock cluster, or --brokers).")
    var throughKafka = false

    @Option(help: "With --through-kafka: a broker whose worker topics exist and are empty, instead of the embedded cluster.")
    var brokers: String?

    @Option(name: .customLong("kafka"), help: "With --through-kafka: a librdkafka property of the worker as name=value (repeatable), as `run --kafka`.")
    var kafka: [String] = []

    @Option(name: .customLong("market-results"), help: "With --worker: the worker's market_results setting, full or summary (market-driven republishes without the explanation).")
    var marketResults = EngineSettings().marketResults

    @Option(help: "With --worker: the parameter set, demo (the demo's opening calibrated set, FHS on), a preset name or a margin.v1.RiskParameters JSON file.")
    var params = BenchParameters.demo

    @Option(name: .customLong("worker-partitions"), help: "With --through-kafka on the embedded cluster: partitions of the accounts topic (default: enough for 2 MiB of accounts each, at least 8).")
    var workerPartitions: Int?

    func run() async throws {
        if worker {
            try await runWorker()
            return
        }
        if growth {
            try runGrowth()
            return
        }
        let parameters = SyntheticBook.parameters()
        let (market, catalog) = SyntheticBook.market(strikesPerExpiry: strikes)
        let markets = MarketState([market])
        let calculator = MarginCalculator(parameters: parameters)
        let scenarioCount = parameters.riskUnits["BTC"]!.scenarios.count
        let optionCount = catalog.options(on: "BTC").count

        // Risk-array build: whole books, best of several rounds.
        var book = try calculator.riskBook(for: "BTC", catalog: catalog, markets: markets, asOfMs: market.timestampMs)
        // A market tick: same catalog, new values (the layout is reused, as the worker does).
        let buildSeconds = Self.best(rounds: 50) {
            book = try! calculator.riskBook(for: "BTC", catalog: catalog, markets: markets, asOfMs: market.timestampMs, reusing: book)
        }
        let buildNs = buildSeconds * 1e9 / Double(optionCount * scenarioCount)
        // The kernel alone, the same work as the C baseline's fill.
        var kernelRows = [Double](repeating: 0, count: optionCount * book.stride)
        let kernelSeconds = kernelRows.withUnsafeMutableBufferPointer { rows in Self.best(rounds: 50) { book.fillRiskArrays(into: rows) } }
        let kernelNs = kernelSeconds * 1e9 / Double(optionCount * scenarioCount)
        let cBuild = Self.cRiskArray(book, rounds: 50)
        let cBuildNs = cBuild.seconds * 1e9 / Double(optionCount * scenarioCount)

        // Aggregation: 10-position accounts on this book, then on a table larger than L2
        // (63 expiries × 40 strikes × call/put = 5,040 options, ≈ 1.9 MB of rows).
        let aggregation = try Self.aggregation(book: book, catalog: catalog, parameters: parameters, accounts: accounts, seed: 42)
        let large = SyntheticBook.market(expiries: 63, strikesPerExpiry: 40)
        let largeBook = try calculator.riskBook(for: "BTC", catalog: large.catalog, markets: MarketState([large.market]),
                                                asOfMs: large.market.timestampMs)
        let largeAggregation = try Self.aggregation(book: largeBook, catalog: large.catalog, parameters: parameters,
                                                    accounts: accounts, seed: 43)

        let books = ["BTC": book]
        var sink = 0.0
        let exposures = aggregation.exposures
        let summarySeconds = Self.best(rounds: 3) {
            for exposure in exposures { sink += try! calculator.summary(exposure, books: books, markets: markets).maintenanceRequirement }
        }
        let summaryNs = summarySeconds * 1e9 / Double(exposures.count)

        let fhs = try Self.historicalSimulation(strikes: strikes, accounts: min(accounts, 2_000))
        sink += fhs.checksum
        // Per-column costs: a book column of one option, and a summary column of one account.
        let fhsBuildNsPerColumn = fhs.bookMs * 1e6 / Double(fhs.options * fhs.bookColumns)
        let fhsSummaryNsPerColumn = fhs.nsPerAccount / Double(fhs.bookColumns)
        let gridSummaryNsPerColumn = summaryNs / Double(scenarioCount)

        // The worker's engine in-process at a small size (10,000 accounts, fewer when --accounts is
        // smaller), so that one run shows the kernels and the worker (`--worker` measures larger
        // sizes and `--through-kafka`).
        let worker = try await WorkerBench.run(accounts: min(10_000, accounts), parameters: BenchParameters(params).parameters, ticks: 5)

        let machine = Self.machine()
        if json {
            print(jsonLine([
                "worker": worker.json,
                "risk_array_ns_per_option_scenario": buildNs,
                "risk_array_book_ms": buildSeconds * 1e3,
                "risk_array_c_ns_per_option_scenario": cBuildNs,
                "risk_array_vs_c": buildNs / cBuildNs,
                "risk_array_kernel_ns_per_option_scenario": kernelNs,
                "risk_array_kernel_vs_c": kernelNs / cBuildNs,
                "risk_array_c_max_abs_difference": cBuild.maxDifference,
                "aggregation_ns_per_account": aggregation.ns,
                "aggregation_c_ns_per_account": aggregation.cNs,
                "aggregation_vs_c": aggregation.ns / aggregation.cNs,
                "aggregation_large_options": largeBook.instruments.count,
                "aggregation_large_ns_per_account": largeAggregation.ns,
                "aggregation_large_c_ns_per_account": largeAggregation.cNs,
                "aggregation_large_vs_c": largeAggregation.ns / largeAggregation.cNs,
                "aggregation_c_max_abs_difference": max(aggregation.maxDifference, largeAggregation.maxDifference),
                "margin_summary_ns_per_account": summaryNs,
                "fhs_ns_per_account": fhs.nsPerAccount,
                "fhs_book_ms": fhs.bookMs,
                "fhs_scenarios": fhs.scenarios, "fhs_columns": fhs.columns,
                "fhs_build_ns_per_option_column": fhsBuildNsPerColumn,
                "fhs_build_column_vs_grid": fhsBuildNsPerColumn / buildNs,
                "fhs_summary_ns_per_column": fhsSummaryNsPerColumn,
                "fhs_summary_column_vs_grid": fhsSummaryNsPerColumn / gridSummaryNsPerColumn,
                "options": optionCount, "scenarios": scenarioCount, "accounts": exposures.count, "positions_per_account": 10,
                "machine": machine, "checksum": sink.isFinite ? 1 : 0,
            ]))
        } else {
            let flag = machine["kernel_target_cpu"] as? String ?? "generic"
            let cMath = machine["c_vector_math"] as? Bool == true ? "glibc vector erfc" : "scalar erfc"
            print("machine: \(machine["cpu"] ?? "?"), \(machine["cores"] ?? 0) cores, kernel target CPU \(flag), C baseline with \(cMath)")
            print("risk-array build: \(optionCount) options × \(scenarioCount) scenarios in \(Self.format(buildSeconds * 1e3, 3)) ms = \(Self.format(buildNs, 2)) ns per option-scenario; C \(Self.format(cBuildNs, 2)) ns, risk_array_vs_c \(Self.format(buildNs / cBuildNs, 2)); the kernel alone \(Self.format(kernelNs, 2)) ns, risk_array_kernel_vs_c \(Self.format(kernelNs / cBuildNs, 2))")
            print("aggregation: \(Self.format(aggregation.ns, 1)) ns per account (10 positions, \(scenarioCount) scenarios); C \(Self.format(aggregation.cNs, 1)) ns, aggregation_vs_c \(Self.format(aggregation.ns / aggregation.cNs, 2))")
            print("aggregation, \(largeBook.instruments.count)-option table: \(Self.format(largeAggregation.ns, 1)) ns per account; C \(Self.format(largeAggregation.cNs, 1)) ns, aggregation_large_vs_c \(Self.format(largeAggregation.ns / largeAggregation.cNs, 2))")
            print("full margin summary (contingencies, equity, health): \(Self.format(summaryNs, 1)) ns per account")
            print("FHS: \(fhs.scenarios) joint scenarios (\(fhs.columns) columns per option): book rebuild \(Self.format(fhs.bookMs, 2)) ms (\(fhs.options) options), margin summary \(Self.format(fhs.nsPerAccount, 0)) ns per 10-position, 2-underlying account")
            print("FHS per column: build \(Self.format(fhsBuildNsPerColumn, 2)) ns per option-column (\(Self.format(fhsBuildNsPerColumn / buildNs, 2))× the grid's), summary \(Self.format(fhsSummaryNsPerColumn, 2)) ns per account-column (\(Self.format(fhsSummaryNsPerColumn / gridSummaryNsPerColumn, 2))× the grid's)")
            let w = worker.json
            func figure(_ key: String) -> String { Self.format((w[key] as? Double) ?? 0, 0) }
            print("worker in-process, 10,000 demo accounts: ingest \(figure("ingest_accounts_per_second")) accounts/s; BTC tick → results handed over p50 \(figure("tick_ms_p50")) ms, p99 \(figure("tick_ms_p99")) ms (bench --worker for more)")
        }
    }

    /// Swift and C aggregation of `accounts` random 10-position accounts over `book`: ns per account
    /// for each, the largest difference of their worst scenario PnLs, and the Swift exposures.
    static func aggregation(book: RiskBook, catalog: InstrumentCatalog, parameters: RiskParameters, accounts count: Int,
                            seed: UInt64) throws -> (ns: Double, cNs: Double, maxDifference: Double, exposures: [AccountExposure]) {
        let accounts = SyntheticBook.accounts(count: count, positions: 10, catalog: catalog, seed: seed)
        let books = [book.underlying: book]
        let exposures = try accounts.map { try AccountExposure(account: $0, catalog: catalog, books: books, parameters: parameters) }
        var worst = [Double](repeating: 0, count: exposures.count)
        let seconds = best(rounds: 10) {
            for (index, exposure) in exposures.enumerated() { worst[index] = book.worstOptionScenarioPnL(of: exposure) }
        }
        let c = cAggregation(book, accounts: accounts, rounds: 10)
        let difference = zip(worst, c.worst).map { abs($0 - $1) }.max() ?? 0
        let perAccount = 1e9 / Double(max(exposures.count, 1))
        return (seconds * perAccount, c.seconds * perAccount, difference, exposures)
    }

    static func format(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

    /// FHS with 1,000 joint BTC/ETH scenarios (worst-of-grid: 3 columns each): the rebuild of one
    /// underlying's book and the margin summary of 10-position accounts on both underlyings.
    static func historicalSimulation(strikes: Int, accounts: Int) throws
        -> (nsPerAccount: Double, bookMs: Double, scenarios: Int, columns: Int, options: Int, bookColumns: Int, checksum: Double) {
        let btc = SyntheticBook.market(underlying: "BTC", index: 60_000, strikesPerExpiry: strikes)
        let eth = SyntheticBook.market(underlying: "ETH", index: 3_000, strikesPerExpiry: strikes)
        let catalog = InstrumentCatalog(btc.catalog.options(on: "BTC") + eth.catalog.options(on: "ETH"))
        let markets = MarketState([btc.market, eth.market])
        var parameters = SyntheticBook.parameters()
        parameters.riskUnits["ETH"] = parameters.riskUnits["BTC"]
        var generator = SeededGenerator(seed: 7)
        var returns: [String: [Double]] = ["BTC": [], "ETH": []]
        for _ in 0..<1_000 {
            let common = Double.random(in: -0.1...0.1, using: &generator)
            returns["BTC"]!.append(common + Double.random(in: -0.02...0.02, using: &generator))
            returns["ETH"]!.append(1.2 * common + Double.random(in: -0.03...0.03, using: &generator))
        }
        parameters.historicalSimulation = HistoricalScenarioSet(labels: (0..<1_000).map { "s\($0)" }, logReturns: returns)
        parameters.decorrelation = 0.5
        let calculator = MarginCalculator(parameters: parameters)
        let asOf = btc.market.timestampMs
        var books = ["BTC": try calculator.riskBook(for: "BTC", catalog: catalog, markets: markets, asOfMs: asOf),
                     "ETH": try calculator.riskBook(for: "ETH", catalog: catalog, markets: markets, asOfMs: asOf)]
        let bookSeconds = best(rounds: 5) {
            books["BTC"] = try! calculator.riskBook(for: "BTC", catalog: catalog, markets: markets, asOfMs: asOf, reusing: books["BTC"])
        }
        let a = SyntheticBook.accounts(count: accounts, positions: 5, catalog: catalog, underlying: "BTC", seed: 1)
        let b = SyntheticBook.accounts(count: accounts, positions: 5, catalog: catalog, underlying: "ETH", seed: 2)
        let exposures = try zip(a, b).map { x, y in
            try AccountExposure(account: Account(id: x.id, version: 1, balances: x.balances, positions: x.positions + y.positions),
                                catalog: catalog, books: books, parameters: parameters)
        }
        var sink = 0.0
        let seconds = best(rounds: 3) {
            for exposure in exposures { sink += try! calculator.summary(exposure, books: books, markets: markets).maintenanceRequirement }
        }
        let set = parameters.historicalSimulation!
        let book = books["BTC"]!
        return (seconds * 1e9 / Double(exposures.count), bookSeconds * 1e3, set.scenarioCount, set.scenarioCount * set.columnsPerScenario,
                book.instruments.count, book.scenarioCount, sink.isFinite ? 1 : 0)
    }

    /// Best wall time of `rounds` runs of `body`, in seconds.
    static func best(rounds: Int, _ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        var best = Double.infinity
        for _ in 0..<rounds {
            let elapsed = try clock.measure(body)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            best = min(best, seconds)
        }
        return best
    }

    static func machine() -> [String: Any] {
        // The model name, with family and model numbers (virtual machines often hide the name).
        var cpu = "unknown"
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) {
            let lines = text.split(separator: "\n")
            func field(_ key: String) -> String? {
                guard let line = lines.first(where: { $0.hasPrefix(key) && $0.dropFirst(key.count).drop { $0 == " " || $0 == "\t" }.first == ":" }),
                      let value = line.split(separator: ":", maxSplits: 1).last else { return nil }
                return value.trimmingCharacters(in: .whitespaces)
            }
            if let name = field("model name") {
                cpu = name
                if let family = field("cpu family"), let model = field("model") { cpu += " (family \(family), model \(model))" }
            }
        }
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        // MarginCore and the C baselines are compiled for the same CPU (Package.swift `kernelTargetCPU`).
        return ["cpu": cpu, "cores": ProcessInfo.processInfo.activeProcessorCount, "build": build,
                "kernel_target_cpu": String(cString: ckb_target_cpu()), "c_vector_math": ckb_uses_vector_math() == 1]
    }
}
