import ArgumentParser
import CommandLineSupport
import Foundation
import Logging
import MarginDemo
import MarginEngineCore

/// `margin-engine demo`: the whole product on one machine.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the self-contained demo: embedded Kafka, two workers, the Deribit chain, generated accounts, a crash."
    )

    @Option(help: "Number of generated accounts.")
    var accounts: Int = 10_000

    @Option(help: "Random seed (same seed: same accounts, same instruction ids).")
    var seed: UInt64 = 42

    @Option(help: "Simulated seconds per real second.")
    var speed: Double = 10

    @Option(help: "Partitions of the accounts topic and its co-partitioned outputs.")
    var partitions: Int32 = DemoOptions().partitions

    @Option(help: "What a market-driven republish carries: full (explained) or summary.")
    var marketResults: EngineSettings.MarketResults = DemoOptions().marketResults

    @Option(help: "Write the summary as JSON to this file.")
    var json: String?

    @Option(help: "Log level of the workers (default: error).")
    var logLevel: String = "error"

    func run() async throws {
        guard accounts > 0, speed > 0, partitions > 0 else { failInput("--accounts, --speed and --partitions must be positive") }
        var logger = Logger(label: "demo", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .error
        var options = DemoOptions()
        options.accounts = accounts
        options.seed = seed
        options.speed = speed
        options.partitions = partitions
        options.marketResults = marketResults
        let interactive = isatty(1) != 0
        let summary = try await DemoRunner(options: options, logger: logger).run(
            print: { FileHandleOutput.standardOutput($0 + "\n") },
            status: { line in FileHandleOutput.standardOutput(interactive ? "\r\u{1B}[K" + line : line + "\n") })
        if interactive { FileHandleOutput.standardOutput("\n") }
        FileHandleOutput.standardOutput(Self.render(summary))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(summary).write(to: URL(fileURLWithPath: json))
            FileHandleOutput.standardOutput("summary written to \(json)\n")
        }
        if !summary.unhandledLiquidatable.isEmpty || !summary.instructionsOnHealthyAccounts.isEmpty {
            FileHandleOutput.standardError("error: invariant violated: \(summary.unhandledLiquidatable.count) liquidatable accounts without instruction, \(summary.instructionsOnHealthyAccounts.count) instructions on healthy accounts\n")
            throw ExitCode(1)
        }
    }

    static func render(_ s: DemoSummary) -> String {
        func money(_ v: Double) -> String { String(format: "%.0f", v) }
        let states = ["healthy", "below_im", "liquidatable", "bankrupt", "stale"]
        var out = "\n=== summary (\(s.accounts) accounts, seed \(s.seed), \(String(format: "%.1f", s.wallSeconds)) s) ===\n"
        out += "state          before     after\n"
        for state in states {
            out += state.padding(toLength: 12, withPad: " ", startingAt: 0)
                + String(format: "%9d %9d\n", s.healthBefore[state] ?? 0, s.healthAfter[state] ?? 0)
        }
        out += "total MM (USDC)      \(money(s.maintenanceBefore)) -> \(money(s.maintenanceAfter))\n"
        out += "total IM (USDC)      \(money(s.initialBefore)) -> \(money(s.initialAfter))\n"
        out += "instructions         \(s.instructions) (\(s.legs) legs, \(s.cancels) cancels)\n"
        out += "notional instructed  \(money(s.notionalInstructedUSD)) USD\n"
        out += "anti-cascade queue   max \(s.maxQueuedByAntiCascade) accounts waiting; at the end "
            + (s.waitingAtEnd.isEmpty ? "none" : s.waitingAtEnd.sorted { $0.key < $1.key }.map { "\($0.value) (\($0.key))" }.joined(separator: ", ")) + "\n"
        out += "bankrupt accounts    \(s.bankruptAccounts), estimated deficit \(money(s.estimatedDeficit)) USDC\n"
        out += "re-margin latency    p50 \(String(format: "%.2f", s.remarginLatencyP50Ms)) ms, p99 \(String(format: "%.2f", s.remarginLatencyP99Ms)) ms\n"
        out += "read back            \(s.resultsRead) results, \(s.instructionsRead) liquidation messages (separate consumer)\n"
        if !s.droppedByEmbeddedBroker.isEmpty {
            out += "\nWARNING: the embedded broker dropped older records (it keeps about 5 MiB per partition): "
                + s.droppedByEmbeddedBroker.sorted { $0.key < $1.key }.map { "\($0.key) starts at \($0.value)" }.joined(separator: ", ")
                + ". The figures above were read live and are complete; a restore from these partitions would not be.\n"
        }
        out += "\ncalibrated parameters (BTC): version, simulated time, grid range with / without APC, forecast vol, FHS ES of $1M long:\n"
        for p in s.calibration {
            out += String(format: "  v%lld  t=%5.1fs  ±%.1f%% / ±%.1f%% (APC +%.0f%%)  vol %.0f%%  ES %.0f  (%@)\n", p.version, p.simulatedSeconds,
                          p.priceRange * 100, p.priceRangeWithoutAPC * 100, p.apcAddOn * 100, p.forecastVolatility * 100,
                          p.expectedShortfallPerMillionLong, p.reason)
        }
        let share = s.initialBefore > 0 ? (s.liquidityAddOnInitial + s.concentrationAddOnInitial) / s.initialBefore * 100 : 0
        out += String(format: "\nliquidity / concentration add-ons at the opening: %@ / %@ USDC of IM (%.1f%%); largest accounts by IM:\n",
                      money(s.liquidityAddOnInitial), money(s.concentrationAddOnInitial), share)
        for a in s.addOnsLargestAccounts {
            out += String(format: "  %@  IM %12.0f  liquidity %10.0f  concentration %10.0f  (%.1f%% of IM)  largest: %@\n", a.account,
                          a.initialRequirement, a.liquidity, a.concentration, a.share * 100, a.largestPosition)
        }
        out += "\nten most severe instructions:\n"
        for instruction in s.topInstructions {
            out += String(format: "  %@ %@ severity %.2f %@ equity %.0f MM %.0f: %@\n", instruction.id, instruction.account, instruction.severity,
                          instruction.reason, instruction.equity, instruction.maintenance, instruction.legs.joined(separator: "; "))
        }
        return out
    }
}
