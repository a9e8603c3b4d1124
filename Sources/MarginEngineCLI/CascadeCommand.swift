import ArgumentParser
import CommandLineSupport
import Foundation
import MarginCascade
import MarginCore
import MarginDemo
import MarginSchema

/// `margin-engine cascade`: a crash in which the engine's own liquidations hit the book and move
/// the price, under the product's policy and its comparisons.
struct CascadeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cascade",
        abstract: "Simulate a liquidation cascade: the engine's liquidations fill against the books and move the price; compare policies.",
        discussion: """
        In-process, with the worker's calculator, risk books, planner and coordinator, on the demo's \
        market (the 2020-05-14 Deribit BTC chain and its ladders) and generated accounts. Each policy \
        runs on the same seed and exogenous path: default (budget, partial steps, add-ons), naive \
        (every liquidatable account closed in full at market at once), no_budget, no_concentration, \
        no_liquidity. Exit code 2 on invalid input.
        """
    )

    @Option(name: .long, help: "oct-2025, mar-2020, or a scenario JSON file.")
    var scenario: String = "oct-2025"

    @Option(name: .long, help: "Demo accounts to generate.")
    var accounts: Int = 10_000

    @Option(name: .long, help: "Seed of the account generator.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Policies to run, comma-separated (default: all): default, naive, no_budget, no_concentration, no_liquidity.")
    var policy: String?

    @Option(name: .long, help: "Parameter set: demo (the demo's opening calibrated set, FHS on), a preset name or a parameter JSON file.")
    var params: String = "demo"

    @Option(name: .long, help: "Insurance fund at the start (USD); default 1 % of the accounts' opening equity.")
    var insuranceFund: Double?

    @Option(name: .long, help: "Write the measures as JSON to this file.")
    var json: String?

    @Option(name: .long, help: "Write the self-contained HTML report to this file.")
    var report: String?

    func run() throws {
        let started = ContinuousClock.now
        do {
            let scenario = try CascadeScenario.named(self.scenario)
            let policies = try Self.policies(policy)
            let parameters = params == "demo" ? try DemoCalibration.openingParameters() : try RiskPresets.load(params)
            let world = try CascadeWorld(accounts: accounts, seed: seed, parameters: parameters, insuranceFund: insuranceFund)
            let result = try CascadeSimulator.run(world: world, scenario: scenario, policies: policies)
            if let json {
                guard FileManager.default.createFile(atPath: json, contents: try result.jsonData()) else { failInput("cannot write \(json)") }
            }
            if let report {
                guard FileManager.default.createFile(atPath: report, contents: Data(result.html().utf8)) else { failInput("cannot write \(report)") }
            }
            let elapsed = ContinuousClock.now - started
            FileHandleOutput.standardOutput(result.summaryTable()
                + String(format: "ran in %.1f s\n", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
        } catch let error as MarginError {
            failInput(error.description)
        } catch let error as CascadeError {
            // Not the input: the run met something it cannot compute.
            FileHandleOutput.standardError("error: \(error.description)\n")
            Foundation.exit(1)
        }
    }

    static func policies(_ text: String?) throws(MarginError) -> [CascadePolicy] {
        guard let text else { return CascadePolicy.allCases }
        var result: [CascadePolicy] = []
        for name in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let policy = CascadePolicy(rawValue: name) else {
                throw .invalidInput(field: "policy", reason: "`\(name)` is not one of \(CascadePolicy.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if !result.contains(policy) { result.append(policy) }
        }
        guard !result.isEmpty else { throw .invalidInput(field: "policy", reason: "names no policy") }
        return result
    }
}
