import ArgumentParser
import Foundation
import MarginCore

/// `margin-engine bench`: times the hot paths on synthetic data on this machine.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time risk-array build and account aggregation on synthetic data (build with -c release).",
    )

    @Flag(help: "Print the figures as JSON.")
    var json = false

    @Option(help: "Number of synthetic accounts for the aggregation benchmark.")
    var accounts: Int = 20_000

    @Option(help: "Strikes per expiry (5 expiries, calls and puts).")
    var strikes: Int = 40

    func run() throws {
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

        // Aggregation: 10-position accounts.
        let accountList = SyntheticBook.accounts(count: accounts, positions: 10, catalog: catalog, seed: 42)
        let books = ["BTC": book]
        let exposures = try accountList.map { try AccountExposure(account: $0, catalog: catalog, books: books, parameters: parameters) }
        var sink = 0.0
        let aggregationSeconds = Self.best(rounds: 10) {
            for exposure in exposures { sink += book.worstOptionScenarioPnL(of: exposure) }
        }
        let summarySeconds = Self.best(rounds: 3) {
            for exposure in exposures { sink += try! calculator.summary(exposure, books: books, markets: markets).maintenanceRequirement }
        }
        let aggregationNs = aggregationSeconds * 1e9 / Double(exposures.count)
        let summaryNs = summarySeconds * 1e9 / Double(exposures.count)

        let machine = Self.machine()
        if json {
            print(jsonLine([
                "risk_array_ns_per_option_scenario": buildNs,
                "risk_array_book_ms": buildSeconds * 1e3,
                "aggregation_ns_per_account": aggregationNs,
                "margin_summary_ns_per_account": summaryNs,
                "options": optionCount, "scenarios": scenarioCount, "accounts": exposures.count, "positions_per_account": 10,
                "machine": machine, "checksum": sink.isFinite ? 1 : 0,
            ]))
        } else {
            print("machine: \(machine["cpu"] ?? "?"), \(machine["cores"] ?? 0) cores")
            print("risk-array build: \(optionCount) options × \(scenarioCount) scenarios in \(String(format: "%.3f", buildSeconds * 1e3)) ms = \(String(format: "%.2f", buildNs)) ns per option-scenario")
            print("aggregation: \(String(format: "%.1f", aggregationNs)) ns per account (10 positions, \(scenarioCount) scenarios)")
            print("full margin summary (contingencies, equity, health): \(String(format: "%.1f", summaryNs)) ns per account")
        }
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
        var cpu = "unknown"
        if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let name = line.split(separator: ":", maxSplits: 1).last {
            cpu = name.trimmingCharacters(in: .whitespaces)
        }
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        return ["cpu": cpu, "cores": ProcessInfo.processInfo.activeProcessorCount, "build": build]
    }
}
