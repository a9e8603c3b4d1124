import Benchmark
import Foundation
import MarginCore
import MarginDemo
import MarginSchema
import MarginTesting
import Synchronization

/// The engine's hot paths on the deterministic synthetic book of `SyntheticBook` (BTC at 60,000,
/// 5 expiries × 40 strikes, calls and puts, 10-position accounts from seed 42), measured with
/// ordo-one/benchmark: wall clock, CPU and allocations per iteration.
///
/// Run: `swift package --disable-sandbox benchmark` (release build). Each benchmark's unit of work
/// is in its name; `margin-engine-bench` prints the same paths normalised per option-scenario and
/// per account.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput],
        warmupIterations: 3,
        maxDuration: .seconds(2),
        maxIterations: 10_000
    )

    let workload = Workload.shared

    Benchmark("Black-76 value and greeks, one option") { benchmark in
        for index in benchmark.scaledIterations {
            let strike = 50_000 + Double(index % 40) * 500
            blackHole(Black76.valuation(Black76Inputs(forward: 60_250, strike: strike, timeToExpiry: 0.1, volatility: 0.62,
                                                      rate: 0.03, right: .call, settlement: .linear)))
        }
    }

    Benchmark("Risk-array rebuild, \(workload.optionCount) options × \(workload.scenarioCount) scenarios") { benchmark in
        var book = workload.book
        for _ in benchmark.scaledIterations {
            book = try workload.calculator.riskBook(for: "BTC", catalog: workload.catalog, markets: workload.markets,
                                                    asOfMs: workload.asOfMs, reusing: book)
            blackHole(book)
        }
    }

    Benchmark("Worst option scenario PnL, \(workload.exposures.count) accounts × 10 positions") { benchmark in
        for _ in benchmark.scaledIterations {
            var sink = 0.0
            for exposure in workload.exposures { sink += workload.book.worstOptionScenarioPnL(of: exposure) }
            blackHole(sink)
        }
    }

    Benchmark("Margin summary (contingencies, equity, health), \(workload.exposures.count) accounts") { benchmark in
        for _ in benchmark.scaledIterations {
            for exposure in workload.exposures {
                blackHole(try workload.calculator.summary(exposure, books: workload.books, markets: workload.markets))
            }
        }
    }

    Benchmark("Margin from scratch (risk book built, full explanation), \(workload.explained.count) accounts") { benchmark in
        for _ in benchmark.scaledIterations {
            for account in workload.explained {
                blackHole(try workload.calculator.margin(account: account, catalog: workload.catalog, markets: workload.markets,
                                                         asOfMs: workload.asOfMs))
            }
        }
    }

    Benchmark("Liquidation plan, \(workload.liquidatable.count) liquidatable accounts") { benchmark in
        let planner = LiquidationPlanner(calculator: workload.calculator, policy: LiquidationPolicy())
        for _ in benchmark.scaledIterations {
            for account in workload.liquidatable {
                blackHole(try planner.plan(account: account, catalog: workload.catalog, books: workload.books, markets: workload.markets))
            }
        }
    }

    // Allocations per re-margin of the worker's accounts (the demo generator on the 2020 Deribit
    // chain, `deribit-like`): the summary every exposed account gets on a tick, and a published
    // result (summary, explanation, protobuf message and its encoding, as the worker queues it).
    // One account per iteration, cycling through 1,000: the percentiles are over accounts.
    let demo = DemoWorkload.shared
    Benchmark("Empty iteration (the harness's own allocations per iteration)") { benchmark in
        for index in benchmark.scaledIterations { blackHole(index) }
    }

    Benchmark("Demo account: margin summary, one account (cycling through \(demo.exposures.count))") { benchmark in
        for _ in benchmark.scaledIterations {
            let exposure = demo.next()
            blackHole(try demo.calculator.summary(exposure, books: demo.books, markets: demo.markets))
        }
    }

    Benchmark("Demo account: published result (summary, explain, protobuf encode), one account (cycling through \(demo.exposures.count))") { benchmark in
        for _ in benchmark.scaledIterations {
            let exposure = demo.next()
            let summary = try demo.calculator.summary(exposure, books: demo.books, markets: demo.markets)
            var result = try demo.calculator.explain(exposure, books: demo.books, markets: demo.markets)
            result.health = summary.health
            blackHole(try SchemaCoding.encode(result.proto(resultID: "r"), format: .protobuf))
        }
    }

    Benchmark("SVI fit, one smile of \(workload.smile.count) strikes") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try SVIFit.fit(points: workload.smile, timeToExpiry: 0.1))
        }
    }
}

/// Inputs built once, outside the measured regions.
struct Workload: Sendable {
    static let shared = try! Workload()

    let parameters: RiskParameters
    let calculator: MarginCalculator
    let catalog: InstrumentCatalog
    let markets: MarketState
    let asOfMs: Int64
    let book: RiskBook
    let books: [String: RiskBook]
    let exposures: [AccountExposure]
    let explained: [Account]
    let liquidatable: [Account]
    let smile: [(k: Double, volatility: Double)]
    var optionCount: Int { catalog.options(on: "BTC").count }
    var scenarioCount: Int { parameters.riskUnits["BTC"]?.scenarios.count ?? 0 }

    init() throws {
        parameters = SyntheticBook.parameters()
        calculator = MarginCalculator(parameters: parameters)
        let (market, catalog) = SyntheticBook.market(strikesPerExpiry: 40)
        self.catalog = catalog
        markets = MarketState([market])
        asOfMs = market.timestampMs
        book = try calculator.riskBook(for: "BTC", catalog: catalog, markets: markets, asOfMs: asOfMs)
        let books = ["BTC": book], parameters = parameters
        self.books = books
        let accounts = SyntheticBook.accounts(count: 1_000, positions: 10, catalog: catalog, seed: 42)
        exposures = try accounts.map { try AccountExposure(account: $0, catalog: catalog, books: books, parameters: parameters) }
        explained = Array(accounts.prefix(100))
        // Cash that leaves each account at half its maintenance requirement.
        var liquidatable: [Account] = []
        for var account in accounts.prefix(100) {
            let result = try calculator.margin(account: account, catalog: catalog, markets: markets, asOfMs: asOfMs)
            guard result.maintenanceRequirement > 0 else { continue }
            account.balances["USDC", default: 0] += 0.5 * result.maintenanceRequirement - result.equity
            liquidatable.append(account)
        }
        self.liquidatable = liquidatable
        // A skewed smile sampled from a known SVI slice.
        let truth = SVIParameters(a: 0.02, b: 0.12, rho: -0.35, m: 0.02, sigma: 0.15, tau: 0.1, referenceForward: 60_000)
        smile = (0..<40).map { index in
            let k = -0.6 + 1.2 * Double(index) / 39
            return (k, (truth.totalVariance(atLogMoneyness: k) / 0.1).squareRoot())
        }
    }
}

/// The worker's accounts as `margin-engine-bench --worker` and the demo generate them: 1,000 accounts
/// (seed 42) on the demo market, compiled as the engine compiles them.
struct DemoWorkload: Sendable {
    static let shared = try! DemoWorkload()

    let calculator: MarginCalculator
    let markets: MarketState
    let books: [String: RiskBook]
    let exposures: [AccountExposure]
    private let cursor = Cursor()

    final class Cursor: Sendable {
        let value = Atomic<Int>(0)
    }

    /// The next account, round-robin.
    func next() -> AccountExposure {
        exposures[cursor.value.add(1, ordering: .relaxed).oldValue % exposures.count]
    }

    init() throws {
        let market = try DemoMarket()
        let parameters = try RiskPresets.load("deribit-like")
        calculator = MarginCalculator(parameters: parameters)
        let catalog = InstrumentCatalog(market.instruments)
        markets = MarketState([market.snapshot(at: market.startMs, path: CrashPath()), market.stablecoin(at: market.startMs)])
        var books: [String: RiskBook] = [:]
        for underlying in Set(market.instruments.map(\.underlying)) where parameters.riskUnits[underlying] != nil {
            books[underlying] = try calculator.riskBook(for: underlying, catalog: catalog, markets: markets, asOfMs: market.startMs)
        }
        self.books = books
        let accounts = try AccountGenerator(seed: 42).generate(count: 1_000, market: market, calculator: calculator)
        exposures = try accounts.map { try AccountExposure(account: $0, catalog: catalog, books: books, parameters: parameters) }
    }
}
