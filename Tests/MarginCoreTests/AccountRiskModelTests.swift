import Foundation
import MarginCore
import Testing
import MarginTesting

/// The account-level combination: correlation across underlyings in the grid and the joint
/// scenario set (FHS), with their properties.
@Suite struct AccountRiskModelTests {
    /// BTC and ETH markets with a perpetual each and a few option expiries, and a shared grid.
    static func world() -> (markets: MarketState, catalog: InstrumentCatalog, parameters: RiskParameters) {
        let btc = SyntheticBook.market(underlying: "BTC", index: 60_000, expiries: 2, strikesPerExpiry: 5)
        let eth = SyntheticBook.market(underlying: "ETH", index: 3_000, expiries: 2, strikesPerExpiry: 5)
        var instruments = btc.catalog.options(on: "BTC") + eth.catalog.options(on: "ETH")
        instruments.append(Instrument(name: "BTC-PERPETUAL", underlying: "BTC", kind: .perpetual))
        instruments.append(Instrument(name: "ETH-PERPETUAL", underlying: "ETH", kind: .perpetual))
        var parameters = SyntheticBook.parameters(underlying: "BTC")
        parameters.riskUnits["ETH"] = parameters.riskUnits["BTC"]
        return (MarketState([btc.market, eth.market]), InstrumentCatalog(instruments), parameters)
    }

    /// Joint log returns where BTC and ETH mostly move together.
    static func scenarioSet(count: Int = 500, seed: UInt64 = 1, confidence: Double = 0.99) -> HistoricalScenarioSet {
        var generator = SeededGenerator(seed: seed)
        var btc: [Double] = [], eth: [Double] = []
        for _ in 0..<count {
            let common = Double.random(in: -0.12...0.12, using: &generator)
            btc.append(common + Double.random(in: -0.02...0.02, using: &generator))
            eth.append(1.2 * common + Double.random(in: -0.03...0.03, using: &generator))
        }
        return HistoricalScenarioSet(confidence: confidence, labels: (0..<count).map { "s\($0)" }, logReturns: ["BTC": btc, "ETH": eth])
    }

    static func margin(_ account: Account, _ parameters: RiskParameters) throws -> MarginResult {
        let w = world()
        return try MarginCalculator(parameters: parameters).margin(account: account, catalog: w.catalog, markets: w.markets,
                                                                     asOfMs: w.markets["BTC"]!.timestampMs)
    }

    static let longBTC = Position(instrument: "BTC-PERPETUAL", quantity: 1, averageEntryPrice: 60_000)
    static let shortETH = Position(instrument: "ETH-PERPETUAL", quantity: -20, averageEntryPrice: 3_000)

    @Test func withDecorrelationOneTheGridIsTheSumOfTheUnits() throws {
        let parameters = Self.world().parameters
        let btc = try Self.margin(Account(id: "a", balances: ["USDC": 1e6], positions: [Self.longBTC]), parameters)
        let eth = try Self.margin(Account(id: "b", balances: ["USDC": 1e6], positions: [Self.shortETH]), parameters)
        let both = try Self.margin(Account(id: "c", balances: ["USDC": 1e6], positions: [Self.longBTC, Self.shortETH]), parameters)
        #expect(both.maintenanceRequirement == btc.maintenanceRequirement + eth.maintenanceRequirement)
        #expect(both.riskModel.binding == .grid)
        #expect(both.riskModel.gridLoss == both.riskModel.gridSum)
        for unit in both.riskUnits { #expect(unit.allocatedLoss == unit.worstLoss) }
    }

    @Test func jointGridCreditsAHedgedPairButKeepsTheDecorrelationCharge() throws {
        var parameters = Self.world().parameters
        parameters.decorrelation = 0.3
        let account = Account(id: "c", balances: ["USDC": 1e6], positions: [Self.longBTC, Self.shortETH])
        let result = try Self.margin(account, parameters)
        let breakdown = result.riskModel
        #expect(breakdown.gridJoint < breakdown.gridSum)
        #expect(abs(breakdown.gridLoss - (0.3 * breakdown.gridSum + 0.7 * breakdown.gridJoint)) < 1e-9)
        #expect(breakdown.gridLoss >= 0.3 * breakdown.gridSum)
        #expect(breakdown.binding == .gridCorrelated)
        let allocated = result.riskUnits.map(\.allocatedLoss).reduce(0, +)
        #expect(abs(allocated - breakdown.riskLoss) < 1e-9)
        // Summary (hot path) and explanation agree.
        parameters.decorrelation = 1
        let summed = try Self.margin(account, parameters)
        #expect(result.maintenanceRequirement < summed.maintenanceRequirement)
    }

    @Test func historicalComponentExplainsItsTail() throws {
        var parameters = Self.world().parameters
        parameters.historicalSimulation = Self.scenarioSet()
        let account = Account(id: "d", balances: ["USDC": 1e6], positions: [
            Position(instrument: "BTC-PERPETUAL", quantity: 3, averageEntryPrice: 60_000),
            Position(instrument: "ETH-PERPETUAL", quantity: 10, averageEntryPrice: 3_000),
        ])
        let result = try Self.margin(account, parameters)
        let h = try #require(result.riskModel.historical)
        #expect(h.scenarioCount == 500)
        #expect(h.expectedShortfall >= h.valueAtRisk)
        #expect(h.worstScenarios.count == 10)
        #expect(h.worstScenarios.map(\.pnl) == h.worstScenarios.map(\.pnl).sorted())
        let contributionSum = h.contributions.map(\.pnl).reduce(0, +)
        #expect(abs(contributionSum + h.expectedShortfall) < 1e-6 * max(1, h.expectedShortfall))
        #expect(result.riskModel.riskLoss == max(result.riskModel.gridLoss, h.loss))
        // Perpetual-only PnL in a scenario is notional × (e^r − 1): check the worst one by hand.
        let set = Self.scenarioSet()
        let btc: [Double] = set.logReturns["BTC"]!, eth: [Double] = set.logReturns["ETH"]!
        var worst = Double.infinity
        for s in 0..<500 {
            let pnl: Double = 180_000 * (exp(btc[s]) - 1) + 30_000 * (exp(eth[s]) - 1)
            worst = min(worst, pnl)
        }
        #expect(abs(h.worstScenarios[0].pnl - worst) < 1e-6)
    }

    @Test func scalingPositionsScalesTheHistoricalLoss() throws {
        var parameters = Self.world().parameters
        parameters.historicalSimulation = Self.scenarioSet()
        let options = Self.world().catalog.options(on: "BTC")
        func account(_ k: Double) -> Account {
            Account(id: "k", balances: ["USDC": 1e7], positions: [
                Position(instrument: options[3].name, quantity: -2 * k),
                Position(instrument: options[8].name, quantity: 1 * k),
                Position(instrument: "ETH-PERPETUAL", quantity: 5 * k, averageEntryPrice: 3_000),
            ])
        }
        let one = try #require(try Self.margin(account(1), parameters).riskModel.historical)
        let three = try #require(try Self.margin(account(3), parameters).riskModel.historical)
        #expect(abs(three.loss - 3 * one.loss) < 1e-8 * three.loss)
    }

    @Test func aHedgedPairNeverCostsMoreThanItsLegs() throws {
        var parameters = Self.world().parameters
        for seed in UInt64(1)...5 {
            parameters.historicalSimulation = Self.scenarioSet(seed: seed)
            parameters.decorrelation = Double(seed - 1) / 4
            let legs = [Self.longBTC, Self.shortETH].map { Account(id: "l", balances: ["USDC": 1e6], positions: [$0]) }
            let separate = try legs.map { try Self.margin($0, parameters).maintenanceRequirement }.reduce(0, +)
            let together = try Self.margin(Account(id: "p", balances: ["USDC": 1e6], positions: [Self.longBTC, Self.shortETH]), parameters)
            #expect(together.maintenanceRequirement <= separate + 1e-9)
        }
    }

    @Test func summaryAgreesWithExplanation() throws {
        let w = Self.world()
        var parameters = w.parameters
        parameters.historicalSimulation = Self.scenarioSet()
        parameters.decorrelation = 0.4
        let calculator = MarginCalculator(parameters: parameters)
        let options = w.catalog.options(on: "ETH")
        let account = Account(id: "s", balances: ["USDC": 2e5], positions: [
            Self.longBTC, Position(instrument: options[2].name, quantity: -4), Position(instrument: options[7].name, quantity: 2),
        ])
        let asOf = w.markets["BTC"]!.timestampMs
        let books = try ["BTC", "ETH"].reduce(into: [String: RiskBook]()) {
            $0[$1] = try calculator.riskBook(for: $1, catalog: w.catalog, markets: w.markets, asOfMs: asOf)
        }
        let exposure = try AccountExposure(account: account, catalog: w.catalog, books: books, parameters: parameters)
        let summary = try calculator.summary(exposure, books: books, markets: w.markets)
        let explained = try calculator.explain(exposure, books: books, markets: w.markets)
        #expect(abs(summary.maintenanceRequirement - explained.maintenanceRequirement) < 1e-9)
        #expect(abs(summary.initialRequirement - explained.initialRequirement) < 1e-9)
        #expect(books["BTC"]!.gridScenarioCount == parameters.riskUnits["BTC"]!.scenarios.count)
        #expect(books["BTC"]!.scenarioCount == books["BTC"]!.gridScenarioCount + 3 * 500)
    }
}
