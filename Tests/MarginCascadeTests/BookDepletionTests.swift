import MarginCore
import MarginDemo
import Testing
@testable import MarginCascade

@Suite("Cascade: book walk with recovery")
struct BookDepletionTests {
    @Test("Taken contracts come off the best levels; half of them return after one half-life; depth scales first")
    func walkAndRecover() {
        let book = OrderBook(bids: [PriceLevel(price: 100, size: 1), PriceLevel(price: 99, size: 2), PriceLevel(price: 98, size: 3)],
                             asks: [PriceLevel(price: 101, size: 1), PriceLevel(price: 102, size: 2)])
        var depletion = BookDepletion()
        depletion.record(instrument: "X", side: .bid, displayed: 2.5, soldDelta: 250)
        let taken = depletion.displayed(book, instrument: "X", multiplier: 1)
        #expect(taken.bids == [PriceLevel(price: 99, size: 0.5), PriceLevel(price: 98, size: 3)])
        #expect(taken.asks == book.asks)
        #expect(taken.bidPrice == 99 && taken.bidSize == 0.5)
        depletion.recover(seconds: 10, halfLife: 10)
        #expect(depletion.netSold == 125)
        #expect(depletion.displayed(book, instrument: "X", multiplier: 1).bids == [PriceLevel(price: 99, size: 1.75), PriceLevel(price: 98, size: 3)])
        // Depth doubled by the path, then 1.25 taken: the best level keeps 0.75.
        #expect(depletion.displayed(book, instrument: "X", multiplier: 2).bids
            == [PriceLevel(price: 100, size: 0.75), PriceLevel(price: 99, size: 4), PriceLevel(price: 98, size: 6)])
        // Twenty half-lives later nothing is left to subtract.
        depletion.recover(seconds: 400, halfLife: 10)
        #expect(depletion.taken.isEmpty)
        #expect(depletion.displayed(book, instrument: "X", multiplier: 1).bids == book.bids)
    }

    /// The demo perpetual at 1 % of its depth: 400, 600, 800, 1,200 and 1,600 contracts of 10 USD,
    /// 0.5, 2.5, 4.5, 6.5 and 8.5 USD from the mid.
    @Test("The index follows the net flow through the reference perpetual: $30,000 sold walks four levels, 6 USD below the best bid")
    func indexDisplacement() throws {
        let world = try CascadeTestWorld.make(accounts: [])
        let scenario = CascadeTestWorld.flatScenario(depth: 0.01)
        let opening = try world.marketState(scenario: scenario, seconds: 0, depletion: nil)
        let spot = try #require(opening.markets["BTC"]?.indexPrice)
        let reference = try world.referenceTerms(world.market.snapshot(at: world.market.startMs, move: MarketMove()), depthMultiplier: 0.01)
        #expect(reference.book?.bids.map(\.size) == [400, 600, 800, 1_200, 1_600])
        var depletion = BookDepletion()
        depletion.record(instrument: "BTC-PERPETUAL", side: .bid, displayed: 3_000, soldDelta: 30_000)
        #expect(abs(depletion.indexDisplacement(reference: reference, model: world.costModel) - -6 / spot) < 1e-12)
        let realised = try world.marketState(scenario: scenario, seconds: 0, depletion: depletion)
        #expect(abs(try #require(realised.markets["BTC"]?.indexPrice) - (spot - 6)) < 1e-9)
        // The perpetual's own book has lost its four best bid levels.
        #expect(realised.markets["BTC"]?.orderBooks["BTC-PERPETUAL"]?.bids.map(\.size) == [1_600])
        // One half-life: 1,500 contracts reach the third level, 4 USD below the best bid.
        depletion.recover(seconds: 60, halfLife: 60)
        #expect(abs(depletion.indexDisplacement(reference: reference, model: world.costModel) - -4 / spot) < 1e-12)
        // Flow the best level absorbs does not move the index.
        var small = BookDepletion()
        small.record(instrument: "BTC-PERPETUAL", side: .bid, displayed: 100, soldDelta: 1_000)
        #expect(small.indexDisplacement(reference: reference, model: world.costModel) == 0)
    }
}
