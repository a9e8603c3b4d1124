import ArgumentParser
import CommandLineSupport
import Foundation
import MarginBacktest
import MarginCore
import MarginSchema

/// `margin-engine backtest`: the margin model against realised losses on price history.
struct BacktestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Backtest margin against realised losses on daily price history (coverage, Kupiec, Christoffersen, traffic light, procyclicality).",
        discussion: """
        For every day after the warm-up the model is calibrated with data up to that day only, every \
        portfolio is margined (IM, MM, the grid's and the FHS loss, with and without APC), and the \
        realised loss of the frozen portfolio over the horizon is measured by full revaluation. An \
        exception is a realised loss above the margin. Exit code 2 on invalid input.
        """
    )

    @OptionGroup var model: RiskModelOptions

    @Option(name: .long, help: "Portfolios: builtin, or a file of margin.v1.AccountState JSON lines on backtest instruments (BTC-PERPETUAL, BTC-30D-0.9-P, …).")
    var portfolios: String = "builtin"

    @Option(name: .long, help: "First backtest day (YYYY-MM-DD); default: after the warm-up.")
    var from: String?

    @Option(name: .long, help: "Last backtest day (YYYY-MM-DD); default: the last day with a full horizon after it.")
    var to: String?

    @Option(name: .long, help: "Days of history before the first backtest day.")
    var warmupDays: Int = 365

    @Option(name: .long, help: "ATM volatility floor of the backtest's option pricing (annualised).")
    var volFloor: Double = 0.3

    @Option(name: .long, help: "ATM volatility as a multiple of the EWMA realised volatility.")
    var volMultiple: Double = 1.1

    @Flag(name: .long, help: "Skip the second calibration without APC (faster; no with/without-APC comparison).")
    var noApcComparison = false

    @Option(name: .long, help: "Also margin the same portfolios on the same days with this preset as shipped (no calibration, no FHS).")
    var baseline: String?

    @Flag(name: .long, help: "Run under every volatility model and score each one's out-of-sample variance forecasts (QLIKE, MSE).")
    var volModels = false

    @Flag(name: .long, help: "Age options over the horizon in the margin scenarios (theta over the margin period of risk).")
    var theta = false

    @Option(name: .long, help: "Write the statistics as JSON to this file.")
    var json: String?

    @Option(name: .long, help: "Write the self-contained HTML report to this file.")
    var report: String?

    func run() throws {
        do {
            let settings = try model.settings()
            let histories = try HistoryFiles.load(model.prices)
            let history = try JointHistory(histories)
            let books: [BacktestPortfolio]
            if portfolios == "builtin" {
                books = BacktestPortfolio.builtin(underlyings: history.underlyings)
            } else {
                books = try Self.loadPortfolios(portfolios)
            }
            var configuration = BacktestRunner.Configuration(settings: settings, base: try RiskPresets.load(model.base),
                                                             volatility: BacktestVolatilityModel(floor: volFloor, multiple: volMultiple, lambda: settings.lambda))
            configuration.warmupDays = warmupDays
            configuration.fromDay = try from.map(Self.day)
            configuration.toDay = try to.map(Self.day)
            configuration.compareWithoutAPC = !noApcComparison
            configuration.baseline = try baseline.map { name throws(MarginError) in try RiskPresets.load(name) }
            configuration.compareVolatilityModels = volModels
            configuration.ageOptionsOverHorizon = theta
            let runner = try BacktestRunner(history: history, portfolios: books, configuration: configuration)
            let progress = Progress(total: runner.dayRange.count * runner.passes)
            let result = try runner.run { done, total in progress.update(done, total) }
            progress.finish()
            if let json {
                guard FileManager.default.createFile(atPath: json, contents: try result.jsonData()) else { failInput("cannot write \(json)") }
            }
            if let report {
                guard FileManager.default.createFile(atPath: report, contents: Data(result.html().utf8)) else { failInput("cannot write \(report)") }
            }
            FileHandleOutput.standardOutput(result.summaryTable())
        } catch let error as MarginError {
            failInput(error.description)
        }
    }

    static func day(_ text: String) throws(MarginError) -> Int {
        guard let day = UTCDay.parse(text) else { throw .invalidInput(field: "date", reason: "`\(text)` is not YYYY-MM-DD") }
        return day
    }

    /// AccountState JSON lines → portfolios (positions only).
    static func loadPortfolios(_ path: String) throws(MarginError) -> [BacktestPortfolio] {
        let text = String(decoding: readInputFile(path, what: "portfolios"), as: UTF8.self)
        var result: [BacktestPortfolio] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            do {
                let state = try SchemaCoding.decode(Margin_V1_AccountState.self, from: Data(line.utf8), format: .json)
                result.append(try BacktestPortfolio(account: Account(proto: state)))
            } catch {
                throw .invalidInput(field: "\(path):\(number + 1)", reason: error.description)
            }
        }
        guard !result.isEmpty else { throw .invalidInput(field: path, reason: "no portfolio") }
        return result
    }
}

/// A progress bar on a terminal, plain lines every 10 % otherwise (standard error).
final class Progress {
    let total: Int
    let terminal = isatty(2) != 0
    var lastTenth = -1
    let started = Date()

    init(total: Int) { self.total = total }

    func update(_ done: Int, _ total: Int) {
        if terminal {
            let width = 40
            let filled = total > 0 ? width * done / total : width
            FileHandleOutput.standardError("\r[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] \(done)/\(total) days")
        } else {
            let tenth = total > 0 ? 10 * done / total : 10
            if tenth != lastTenth {
                lastTenth = tenth
                FileHandleOutput.standardError("backtest: \(done)/\(total) days (\(String(format: "%.1f", Date().timeIntervalSince(started))) s)\n")
            }
        }
    }

    func finish() {
        if terminal { FileHandleOutput.standardError("\n") }
    }
}
