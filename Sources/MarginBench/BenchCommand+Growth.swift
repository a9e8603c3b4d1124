import CommandLineSupport
import Foundation
import MarginCore
import MarginSchema
import MarginTesting

/// `margin-engine-bench --growth`: how the cost of margining grows with positions per account,
/// options per underlying and scenarios, three sizes each, on `SyntheticBook` (BTC at 60,000, SVI
/// smiles, the 40-scenario grid; random option accounts, seed 42). Per size: the risk-array rebuild
/// of a market tick (the book's whole table, layout reused), the margin summary per account (what
/// every exposed account gets on a tick) and a full published result per account (summary,
/// explanation, protobuf message and its encoding, as the worker queues it).
enum GrowthBench {
    struct Row {
        var dimension: String
        var size: Int
        var options: Int
        var columns: Int
        var positions: Int
        var bookMs: Double
        var summaryNs: Double
        var resultNs: Double
        var resultBytes: Double

        var json: [String: Any] {
            ["dimension": dimension, "size": size, "options": options, "columns_per_option": columns, "positions_per_account": positions,
             "risk_array_book_ms": bookMs, "margin_summary_ns_per_account": summaryNs, "published_result_ns_per_account": resultNs,
             "result_bytes": resultBytes]
        }
    }

    /// One configuration: a BTC book of `expiries × strikes × 2` options, `positions`-position
    /// accounts, and `fhsScenarios` historical scenarios (worst-of-grid: three columns each) or none.
    static func measure(dimension: String, size: Int, expiries: Int = 5, strikes: Int = 40, positions: Int = 10,
                        fhsScenarios: Int = 0, accounts: Int = 2_000, explained: Int = 200) throws -> Row {
        let (market, catalog) = SyntheticBook.market(expiries: expiries, strikesPerExpiry: strikes)
        let markets = MarketState([market])
        var parameters = SyntheticBook.parameters()
        if fhsScenarios > 0 {
            var generator = SeededGenerator(seed: 7)
            let returns = (0..<fhsScenarios).map { _ in Double.random(in: -0.1...0.1, using: &generator) }
            parameters.historicalSimulation = HistoricalScenarioSet(labels: (0..<fhsScenarios).map { "s\($0)" }, logReturns: ["BTC": returns])
        }
        let calculator = MarginCalculator(parameters: parameters)
        var book = try calculator.riskBook(for: "BTC", catalog: catalog, markets: markets, asOfMs: market.timestampMs)
        let bookSeconds = try BenchCommand.best(rounds: 5) {
            book = try calculator.riskBook(for: "BTC", catalog: catalog, markets: markets, asOfMs: market.timestampMs, reusing: book)
        }
        let books = ["BTC": book]
        let generated = SyntheticBook.accounts(count: accounts, positions: positions, catalog: catalog, seed: 42)
        let exposures = try generated.map { try AccountExposure(account: $0, catalog: catalog, books: books, parameters: parameters) }
        var sink = 0.0
        let summarySeconds = try BenchCommand.best(rounds: 3) {
            for exposure in exposures { sink += try calculator.summary(exposure, books: books, markets: markets).maintenanceRequirement }
        }
        let subset = Array(exposures.prefix(explained))
        var bytes = 0
        let resultSeconds = try BenchCommand.best(rounds: 3) {
            bytes = 0
            for exposure in subset {
                let summary = try calculator.summary(exposure, books: books, markets: markets)
                var result = try calculator.explain(exposure, books: books, markets: markets)
                result.health = summary.health
                bytes += try SchemaCoding.encode(result.proto(resultID: "r"), format: .protobuf).count
            }
        }
        precondition(sink.isFinite)
        return Row(dimension: dimension, size: size, options: book.instruments.count, columns: book.scenarioCount, positions: positions,
                   bookMs: bookSeconds * 1e3, summaryNs: summarySeconds * 1e9 / Double(exposures.count),
                   resultNs: resultSeconds * 1e9 / Double(subset.count), resultBytes: Double(bytes) / Double(subset.count))
    }

    /// Three sizes per dimension; the middle one is `bench`'s configuration (400 options, 40
    /// scenarios, 10 positions).
    static func run() throws -> [Row] {
        var rows: [Row] = []
        for positions in [1, 10, 50] { rows.append(try measure(dimension: "positions_per_account", size: positions, positions: positions)) }
        for (expiries, strikes) in [(5, 10), (5, 40), (25, 40)] {
            rows.append(try measure(dimension: "options_per_underlying", size: expiries * strikes * 2, expiries: expiries, strikes: strikes))
        }
        for scenarios in [0, 334, 1_000] { rows.append(try measure(dimension: "fhs_scenarios", size: scenarios, fhsScenarios: scenarios)) }
        return rows
    }
}

extension BenchCommand {
    func runGrowth() throws {
        let rows = try GrowthBench.run()
        let machine = Self.machine()
        if json {
            print(jsonLine(["growth": rows.map(\.json), "machine": machine]))
            return
        }
        var dimension = ""
        for row in rows {
            if row.dimension != dimension {
                dimension = row.dimension
                print("growth with \(dimension.replacingOccurrences(of: "_", with: " ")):")
            }
            print(String(format: "  %@ %5d: %5d options × %5d columns, %2d positions: book rebuild %8.2f ms, summary %8.0f ns/account, published result %7.1f µs/account (%5.0f bytes)",
                         dimension == "fhs_scenarios" ? "scenarios" : dimension == "positions_per_account" ? "positions" : "options  ",
                         row.size, row.options, row.columns, row.positions, row.bookMs, row.summaryNs, row.resultNs / 1e3, row.resultBytes))
        }
        print("machine: \(machine["cpu"] ?? "?"), \(machine["cores"] ?? 0) cores, \(machine["build"] ?? "?") build")
    }
}
