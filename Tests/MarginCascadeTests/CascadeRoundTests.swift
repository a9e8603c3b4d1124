import MarginCore
import MarginDemo
import MarginEngineCore
import Testing
@testable import MarginCascade

/// One cascade on a hand-built book, at 1 % of the demo's perpetual depth (400, 600, 800, 1,200,
/// 1,600 contracts at 0.5, 2.5, 4.5, 6.5, 8.5 USD from the mid), naive policy (full close at
/// market), no insurance fund:
/// - `a`: long 3,000 contracts with 5 USDC: liquidatable, its close walks four levels, which costs
///   more than its equity: no penalty can be collected, and a deficit is left for ADL (no fund);
/// - `b`: long 1,000 contracts, margined to sit halfway between healthy at the opening index and
///   liquidatable 6 USD lower: liquidated only because `a`'s fill moved the index (one wave);
/// - `c`: short 2,000 contracts entered 5 % higher: profitable, never liquidated, deleveraged to
///   cover `a`'s deficit.
@Suite("Cascade: one round on a three-account book")
struct CascadeRoundTests {
    static let perpetual = "BTC-PERPETUAL"

    static func accounts(spot: Double, bCash: Double) -> [Account] {
        [Account(id: "a", version: 1, balances: ["USDC": 5], positions: [Position(instrument: perpetual, quantity: 3_000, averageEntryPrice: spot)]),
         Account(id: "b", version: 1, balances: ["USDC": bCash], positions: [Position(instrument: perpetual, quantity: 1_000, averageEntryPrice: spot)]),
         Account(id: "c", version: 1, balances: ["USDC": 5_000], positions: [Position(instrument: perpetual, quantity: -2_000, averageEntryPrice: spot * 1.05)])]
    }

    /// `b`'s cash halfway between "equity − MM" at the opening market and 6 USD lower.
    static func bCash(world: CascadeWorld, scenario: CascadeScenario, spot: Double) throws -> Double {
        var moved = BookDepletion()
        moved.record(instrument: perpetual, side: .bid, displayed: 0, soldDelta: 30_000)
        let calculator = MarginCalculator(parameters: world.parameters)
        let b = Account(id: "b", version: 1, balances: [:], positions: [Position(instrument: perpetual, quantity: 1_000, averageEntryPrice: spot)])
        var gaps: [Double] = []
        for depletion in [nil, moved] {
            let markets = try world.marketState(scenario: scenario, seconds: 0, depletion: depletion).markets
            let book = try calculator.riskBook(for: "BTC", catalog: world.catalog, markets: markets, asOfMs: world.market.startMs)
            let exposure = try AccountExposure(account: b, catalog: world.catalog, books: ["BTC": book], parameters: world.parameters)
            let summary = try calculator.summary(exposure, books: ["BTC": book], markets: markets)
            gaps.append(summary.equity - summary.maintenanceRequirement)
        }
        #expect(gaps[0] > gaps[1])
        return -(gaps[0] + gaps[1]) / 2
    }

    @Test("a's fill walks four levels and moves the index 6 USD; b falls in a wave; c covers a's deficit by ADL; cash and positions are conserved")
    func oneCascade() throws {
        let scenario = CascadeTestWorld.flatScenario(depth: 0.01)
        let probe = try CascadeTestWorld.make(accounts: [])
        let spot = probe.market.index
        let world = try CascadeTestWorld.make(accounts: Self.accounts(spot: spot, bCash: try Self.bCash(world: probe, scenario: scenario, spot: spot)))
        var run = CascadeRun(world: world, scenario: scenario, policy: .naive)
        var record = CascadeStep(seconds: 0, exogenousIndex: 0, realisedIndex: 0, depthMultiplier: 0, liquidatedNotional: 0,
                                 newLiquidatable: 0, endogenousTriggers: 0, rounds: 0)

        // Window 0: only a is liquidatable; it is closed in full at market.
        #expect(try run.round(step: 0, window: 0, into: &record))
        #expect(run.health.map(\.isInLiquidation) == [true, false, false])
        #expect(record.newLiquidatable == 1 && record.endogenousTriggers == 0 && run.tally.waves == 0)
        #expect(run.ledger.accounts[0].positions.isEmpty)
        #expect(run.depletion.taken[Self.perpetual]?.bid == 3_000)
        #expect(run.depletion.netSold == 30_000)
        // Walk: 400 × 0.5 + 600 × 2.5 + 800 × 4.5 + 1,200 × 6.5 = 13,100 USD of price distance on
        // 10-USD contracts (× 10 / spot each), more than a's 5 USDC of equity: the 0.5 % penalty
        // (150) is not charged, since the fund would only pay it back.
        let walk = 13_100 * 10 / spot
        #expect(walk > 5)
        #expect(run.ledger.fundIncome == 0)
        // a's equity (5 − walk) is negative and there is no fund: c is deleveraged for all of it.
        let deficit = walk - 5
        let adl = deficit
        #expect(run.ledger.fundUsed == 0 && run.ledger.fund == 0 && run.ledger.uncovered == 0)
        // The makers received the walk (a's entry was the mark: nothing else changed hands) and paid
        // c's deleveraged profit to a.
        #expect(abs(run.ledger.makersCash - (walk - adl)) < 1e-6)
        #expect(run.tally.bankrupt == [0])
        #expect(abs(run.ledger.deficits - deficit) < 1e-6)
        #expect(abs(run.ledger.accounts[0].balances["USDC"]! - 0) < 1e-6)
        let cProfit = -2_000.0 * 10 * (1 / (spot * 1.05) - 1 / spot) * spot
        let share = adl / cProfit
        #expect(abs(run.ledger.accounts[2].positions[0].quantity - -2_000 * (1 - share)) < 1e-9)
        #expect(run.ledger.accounts[2].balances["USDC"] == 5_000)
        #expect(abs(run.ledger.adlNotional - share * 20_000) < 1e-6)
        #expect(run.ledger.conservationError() < 1e-9)

        // Window 1: the index is 6 USD lower; b is liquidatable, which the exogenous market alone
        // would not make it: one wave.
        #expect(try run.round(step: 0, window: 1, into: &record))
        #expect(abs(record.realisedIndex - (spot - 6)) < 1e-9)
        #expect(record.newLiquidatable == 2 && record.endogenousTriggers == 1 && run.tally.waves == 1)
        #expect(run.ledger.accounts[1].positions.isEmpty)
        #expect(run.tally.liquidated == [0, 1])
        // b's 1,000 contracts: the fifth level only (the fourth is empty): 8.5 USD from the mid.
        #expect(run.depletion.taken[Self.perpetual]?.bid == 4_000)
        #expect(run.ledger.conservationError() < 1e-9)
        // Nothing more to do: c stays healthy.
        #expect(try !run.round(step: 0, window: 2, into: &record))
        #expect(run.health[2] == .healthy || run.health[2] == .belowInitial)
    }

}
