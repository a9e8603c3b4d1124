import ArgumentParser
import Foundation
import MarginConformance

/// `margin-engine conformance`: reproduce published reference models.
struct ConformanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Check the engine against published reference models.",
        subcommands: [DerivePMRM2Command.self, DeribitChainCommand.self]
    )
}

/// `margin-engine conformance derive-pmrm2 DIR`.
struct DerivePMRM2Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "derive-pmrm2",
        abstract: "Run Derive PMRM_2 golden portfolio cases (JSON) and compare every scenario PnL, contingency, MM and IM.",
        discussion: "Tolerance: relative 1e-8, absolute 1e-6 near zero. Exit 1 if any case fails."
    )

    @Argument(help: "Directory of case files (*.json).")
    var directory: String

    func run() throws {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }
                .sorted { $0.localizedStandardCompare($1) == .orderedAscending }
        } catch {
            failInput("cannot list \(directory): \(error.localizedDescription)")
        }
        var passed = 0, failed = 0
        for file in files {
            let path = (directory as NSString).appendingPathComponent(file)
            guard let data = FileManager.default.contents(atPath: path) else {
                failed += 1
                print("FAIL \(file): unreadable")
                continue
            }
            do {
                let testCase = try DerivePMRM2Case(name: file, data: data)
                if let mismatch = DerivePMRM2Profile.check(testCase) {
                    failed += 1
                    if let error = mismatch.error {
                        print("FAIL \(file): \(mismatch.field): \(error)")
                    } else {
                        print("FAIL \(file): \(mismatch.field): expected \(mismatch.expected), got \(mismatch.actual.map { "\($0)" } ?? "nothing")")
                    }
                } else {
                    passed += 1
                }
            } catch {
                failed += 1
                print("FAIL \(file): \(error)")
            }
        }
        print("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}

/// `margin-engine conformance deribit-chain FILE.csv`.
struct DeribitChainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deribit-chain",
        abstract: "Price a Deribit option chain snapshot and report errors against the exchange's marks and deltas.",
        discussion: "Exit 1 when the median price error exceeds 1e-5 BTC or the median delta error 1e-3."
    )

    @Argument(help: "Chain snapshot CSV (Deribit public API fields).")
    var file: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let text = String(decoding: readInputFile(file, what: "chain"), as: UTF8.self)
        let options: [DeribitChainOption]
        do {
            options = try DeribitChain.parse(csv: text)
        } catch {
            failInput(error.description)
        }
        let r = DeribitChain.compare(options)
        if json {
            print(jsonLine([
                "options": r.count, "price_error_median_btc": r.priceMedian, "price_error_p99_btc": r.price99,
                "price_error_max_btc": r.priceMax, "delta_error_median": r.deltaMedian, "delta_error_p99": r.delta99,
                "delta_error_max": r.deltaMax, "worst_price_instrument": r.worstPriceInstrument, "pass": r.passes,
            ]))
        } else {
            print("options priced: \(r.count)")
            print(String(format: "price error (BTC): median %.3e  p99 %.3e  max %.3e (%@)", r.priceMedian, r.price99, r.priceMax, r.worstPriceInstrument))
            print(String(format: "delta error:       median %.3e  p99 %.3e  max %.3e", r.deltaMedian, r.delta99, r.deltaMax))
            print(r.passes ? "PASS (median bounds 1e-5 BTC, 1e-3 delta)" : "FAIL (median bounds 1e-5 BTC, 1e-3 delta)")
        }
        if !r.passes { throw ExitCode(1) }
    }
}
