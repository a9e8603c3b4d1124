import Foundation
import MarginCore
import Testing
import TestSupport

/// `margin-engine price` as users run it: JSON lines in, prices and Greeks out, bad lines answered
/// with their error, and every documented example working.
@Suite("margin-engine price", .tags(.cli))
struct PriceCommandTests {
    @Test("margin-engine price accepts 0 and 1 as numbers and still refuses booleans")
    func priceZeroAndOne() throws {
        let lines = [
            #"{"forward": 60000, "strike": 55000, "expiry_years": 1, "vol": 0.8, "rate": 0, "type": "call"}"#,
            #"{"forward": 1, "strike": 1, "expiry_years": 1, "vol": 1, "rate": 1, "type": "put", "settlement": "inverse"}"#,
            #"{"forward": 60000, "strike": 55000, "expiry_years": 0.5, "vol": 0.8, "rate": true, "type": "call"}"#,
            #"{"forward": 0, "strike": 55000, "expiry_years": 1, "vol": 0.8, "type": "call"}"#,
        ]
        let run = try CLI.run(["price"], stdin: lines.joined(separator: "\n") + "\n")
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let outputs = try CLI.jsonLines(run.stdout)
        try #require(outputs.count == 4, "stdout: \(run.stdout)")
        let expected = [
            Black76.valuation(Black76Inputs(forward: 60_000, strike: 55_000, timeToExpiry: 1, volatility: 0.8, rate: 0, right: .call, settlement: .linear)),
            Black76.valuation(Black76Inputs(forward: 1, strike: 1, timeToExpiry: 1, volatility: 1, rate: 1, right: .put, settlement: .inverse)),
        ]
        for (output, valuation) in zip(outputs, expected) {
            #expect(output["error"] == nil, "\(output)")
            let price = try #require(output["price"] as? Double)
            #expect(abs(price - valuation.price) <= 1e-12 * max(1, abs(valuation.price)))
            let delta = try #require(output["delta"] as? Double)
            #expect(abs(delta - valuation.delta) <= 1e-12 * max(1, abs(valuation.delta)))
        }
        #expect((outputs[2]["error"] as? String)?.contains("rate: must be a number") == true, "\(outputs[2])")
        #expect(outputs[3]["code"] as? String == "invalid_input", "\(outputs[3])")
    }

    @Test("Every margin-engine price example in README.md and Schemas/README.md runs")
    func priceExamplesInReadmes() throws {
        var examples = 0
        for file in ["README.md", "Schemas/README.md"] {
            let text = try String(contentsOf: CLI.root.appendingPathComponent(file), encoding: .utf8)
            // The input format written inline as an example line with placeholders.
            for template in ReadmeExamples.priceTemplates(in: text) {
                for variant in ReadmeExamples.instantiate(template) {
                    examples += 1
                    let run = try CLI.run(["price"], stdin: variant + "\n")
                    let outputs = try CLI.jsonLines(run.stdout)
                    #expect(run.status == 0 && outputs.count == 1, "\(file): \(variant) → \(run.stdout) \(run.stderr)")
                    for output in outputs {
                        #expect(output["error"] == nil && output["price"] is Double, "\(file): \(variant) → \(output)")
                    }
                }
            }
            // Shell examples (```sh blocks) that run `margin-engine price`.
            for command in ReadmeExamples.shellCommands(in: text) where command.contains("margin-engine price") {
                examples += 1
                let run = try CLI.shell(command)
                #expect(run.status == 0, "\(file): \(command) → \(run.stderr)")
                let outputs = try CLI.jsonLines(run.stdout)
                #expect(!outputs.isEmpty, "\(file): \(command) printed nothing")
                for output in outputs {
                    #expect(output["error"] == nil && output["price"] is Double, "\(file): \(command) → \(output)")
                }
            }
        }
        #expect(examples > 0, "no margin-engine price example found in the READMEs")
    }
}
