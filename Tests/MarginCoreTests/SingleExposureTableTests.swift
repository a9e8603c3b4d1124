import Foundation
@testable import MarginCore
import MarginTesting
import Testing

/// The risk book's per-exposure tables (a single option, or delta-one only; the bound that lets a
/// grid-bound account skip its joint columns) against the straightforward aggregation: the summary
/// takes the table, the explanation never does.
@Suite struct SingleExposureTableTests {
    /// The BTC/ETH world with the joint scenario set, and optionally every rule the table must
    /// stay exact under: static discount, basis contingency, extended dampener and gain credit.
    static func calculator(rules: Bool, volatilityTreatment: HistoricalScenarioSet.VolatilityTreatment) -> (MarginCalculator, MarketState, InstrumentCatalog) {
        let w = AccountRiskModelTests.world()
        var parameters = w.parameters
        var set = AccountRiskModelTests.scenarioSet(count: 400, seed: 7, confidence: 0.975)
        set.volatilityTreatment = volatilityTreatment
        // Moves beyond the grid (±18 %, tails −25 % and +30 %), so that the joint tail binds for many accounts.
        set.logReturns = set.logReturns.mapValues { $0.map { 3 * $0 } }
        parameters.historicalSimulation = set
        if rules {
            for underlying in ["BTC", "ETH"] {
                var unit = parameters.riskUnits[underlying]!
                unit.staticDiscount = StaticDiscountRule(positiveBase: 0.95, positiveRateMultiplier: 1, positiveRateAdd: 0,
                                                         negativeBase: 1.05, negativeRateMultiplier: 1, negativeRateAdd: 0)
                unit.basisContingency = BasisContingencyRule(spotUp: 1.03, spotDown: 0.97, addFactor: 1.1, multFactor: 0.5)
                unit.extendedDampener = 50
                unit.gainCredit = GainCreditRule(pnlOffset: 0.3, maxOffsetablePnl: 500)
                unit.scenarios.append(Scenario(spotShock: 0.75, volatilityShock: .up, kind: .tail))
                unit.scenarios.append(Scenario(spotShock: 1.3, volatilityShock: .up, kind: .tail))
                parameters.riskUnits[underlying] = unit
            }
        }
        return (MarginCalculator(parameters: parameters), w.markets, w.catalog)
    }

    static func books(_ calculator: MarginCalculator, _ markets: MarketState, _ catalog: InstrumentCatalog) throws -> [String: RiskBook] {
        try ["BTC", "ETH"].reduce(into: [String: RiskBook]()) {
            $0[$1] = try calculator.riskBook(for: $1, catalog: catalog, markets: markets, asOfMs: markets["BTC"]!.timestampMs)
        }
    }

    static func agree(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * max(1, abs(a), abs(b)) }

    @Test(arguments: [false, true], [HistoricalScenarioSet.VolatilityTreatment.worstOfGrid, .none])
    func summaryFromTheTableEqualsTheExplanation(rules: Bool, treatment: HistoricalScenarioSet.VolatilityTreatment) throws {
        let (calculator, markets, catalog) = Self.calculator(rules: rules, volatilityTreatment: treatment)
        let books = try Self.books(calculator, markets, catalog)
        #expect(books["BTC"]?.singleExposures != nil)
        var generator = SeededGenerator(seed: rules ? 11 : 12)
        let options = catalog.options(on: "BTC")
        var historicalBinding = 0, gridBinding = 0
        for index in 0..<500 {
            let quantity = (Bool.random(using: &generator) ? 1 : -1) * Double.random(in: 0.1...40, using: &generator)
            var positions: [Position]
            var balances = ["USDC": Double.random(in: 1e3...5e5, using: &generator)]
            switch index % 5 {
            case 0: positions = [Position(instrument: options.randomElement(using: &generator)!.name, quantity: quantity)]
            case 1: positions = [Position(instrument: "BTC-PERPETUAL", quantity: quantity / 10, averageEntryPrice: 60_000)]
            case 2:
                // Delta-one only with a risk-linked balance of the underlying.
                positions = [Position(instrument: "BTC-PERPETUAL", quantity: quantity / 10, averageEntryPrice: 59_000)]
                balances["BTC"] = Double.random(in: 0...3, using: &generator)
            default:
                // Several options and perhaps the perpetual: the grid-binding bound, or the full columns.
                positions = Array(options.shuffled(using: &generator).prefix(Int.random(in: 2...6, using: &generator))).map { option in
                    Position(instrument: option.name,
                             quantity: (Bool.random(using: &generator) ? 1 : -1) * Double.random(in: 0.1...20, using: &generator))
                }
                if index % 5 == 4 { positions.append(Position(instrument: "BTC-PERPETUAL", quantity: quantity / 20, averageEntryPrice: 60_000)) }
            }
            let account = Account(id: "a\(index)", balances: balances, positions: positions)
            let exposure = try AccountExposure(account: account, catalog: catalog, books: books, parameters: calculator.parameters)
            let summary = try calculator.summary(exposure, books: books, markets: markets)
            let explained = try calculator.explain(exposure, books: books, markets: markets)
            #expect(Self.agree(summary.maintenanceRequirement, explained.maintenanceRequirement), "account \(index): MM \(summary.maintenanceRequirement) vs \(explained.maintenanceRequirement)")
            #expect(Self.agree(summary.initialRequirement, explained.initialRequirement), "account \(index): IM \(summary.initialRequirement) vs \(explained.initialRequirement)")
            if explained.riskModel.binding == .historical { historicalBinding += 1 }
            if explained.riskModel.binding == .grid { gridBinding += 1 }
        }
        // Both the joint tail and the grid bind for some accounts, or the comparison would not
        // exercise the table, the bound and the full columns.
        #expect(historicalBinding > 0)
        #expect(gridBinding > 0)
    }

    /// Each table entry against the straightforward aggregation of that one exposure.
    @Test func entriesEqualTheAggregationOfOneHolding() throws {
        let (calculator, markets, catalog) = Self.calculator(rules: true, volatilityTreatment: .worstOfGrid)
        let book = try Self.books(calculator, markets, catalog)["BTC"]!
        let table = try #require(book.singleExposures)
        let rule = JointTail(calculator.parameters.historicalSimulation!)
        for slot in 0..<book.instruments.count {
            for quantity in [2.5, -0.75] {
                let holding = try #require(AccountExposure.OptionHolding(slot: slot, quantity: quantity, stride: book.stride))
                let entry = table.optionEntry(slot: slot, quantity: quantity)
                let scale = abs(quantity)
                let (basis, es) = book.withAggregationScratch { total, bucket in
                    let (_, basis) = [holding].withUnsafeBufferPointer {
                        ScenarioAggregation.aggregate(book: book, holdings: $0, deltaOneNotional: 0, total: total, bucket: bucket)
                    }
                    for column in 0..<book.gridScenarioCount {
                        #expect(Self.agree(total[column], scale * table.grid[entry * table.gridCount + column]))
                    }
                    return (basis, rule.measure(compressing: total, base: book.gridScenarioCount).expectedShortfall)
                }
                #expect(Self.agree(basis, scale * table.basis[entry]))
                #expect(Self.agree(es, scale * table.expectedShortfall[entry]))
            }
        }
    }
}
