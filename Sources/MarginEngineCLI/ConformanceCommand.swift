import ArgumentParser
import CommandLineSupport
import Foundation
import MarginConformance

/// `margin-engine conformance`: reproduce published reference models.
struct ConformanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Check the engine against published reference models.",
        subcommands: [DerivePMRM2Command.self, DeribitPMECommand.self, DeribitChainCommand.self]
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
                    print("FAIL \(file): \(mismatch.description)")
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

/// `margin-engine conformance deribit-pme FILE...`.
struct DeribitPMECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deribit-pme",
        abstract: "Recompute Deribit private/pme/simulate responses: every risk-vector entry, the worst case and its bucket, roll and delta shock, RMM, MM and IM.",
        discussion: """
            Reads the JSON Deribit publishes ({jsonrpc, result} or a bare result). Compares at 1e-9 absolute; \
            mmp_margin, open_orders_margin and spot_margin are taken as published. Prints one line per file and \
            `N passed, M failed`; exits 0 when all pass, 1 when one disagrees, 2 on input the command cannot read.
            """
    )

    @Argument(help: "Response files (JSON).")
    var files: [String]

    func run() throws {
        var passed = 0, failed = 0, unreadable = 0
        for path in files {
            let name = (path as NSString).lastPathComponent
            let testCase: DeribitPMECase
            do {
                testCase = try DeribitPMECase(name: name, data: readInputFile(path, what: "response"))
            } catch {
                unreadable += 1
                FileHandleOutput.standardError("error: \(name): \(error)\n")
                continue
            }
            if let mismatch = testCase.check() {
                failed += 1
                print("FAIL \(name): \(mismatch.description)")
            } else {
                passed += 1
                print("PASS \(name): \(testCase.comparedCount) values agree (\(testCase.runs.map(\.currency).joined(separator: ", ")))")
            }
        }
        print("\(passed) passed, \(failed + unreadable) failed")
        if unreadable > 0 { throw ExitCode(2) }
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
