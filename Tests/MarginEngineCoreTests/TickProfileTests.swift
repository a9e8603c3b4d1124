import EngineTestSupport
import MarginCore
import Testing
@testable import MarginEngineCore

/// The engine says where each tick spent its time (``TickProfile``), so that a slow tick can be
/// explained from its phases.
@Suite("Tick profile")
struct TickProfileTests {
    @Test("A tick that moves a market times every phase it ran, and the phases add up to no more than the tick took")
    func phasesOfAMarketTick() async {
        let engine = await EngineFixture.engine(accounts: TestWorld.accounts(btc: 3, eth: 2))
        await engine.handleReference(EngineFixture.market(TestWorld.btc(index: 58_000, at: EngineFixture.now), offset: 10))
        let start = ContinuousClock.now
        await engine.tick()
        let elapsed = ContinuousClock.now - start
        let profile = await engine.lastTickProfile
        #expect(Set(profile.nanoseconds.keys) == Set(TickProfile.Phase.allCases), "every phase ran: \(profile.nanoseconds)")
        #expect(profile.nanoseconds.values.allSatisfy { $0 >= 0 })
        #expect(profile.total > 0)
        #expect(Duration.nanoseconds(profile.total) <= elapsed)
    }

    @Test("A tick with nothing to re-margin has no pass phases; the next profile replaces the last")
    func quietTick() async {
        let engine = await EngineFixture.engine(accounts: TestWorld.accounts(btc: 1, eth: 0))
        await engine.handleReference(EngineFixture.market(TestWorld.btc(index: 59_000, at: EngineFixture.now), offset: 10))
        await engine.tick()
        #expect(await engine.lastTickProfile.nanoseconds[.summaries] != nil)
        await engine.tick()
        let quiet = await engine.lastTickProfile
        #expect(quiet.nanoseconds[.summaries] == nil && quiet.nanoseconds[.decisions] == nil && quiet.nanoseconds[.results] == nil)
        #expect(quiet.nanoseconds[.books] != nil && quiet.nanoseconds[.publication] != nil)
    }

    @Test("Phases are listed in the order the tick runs them (bench and the docs print them so)")
    func order() {
        #expect(TickProfile.Phase.allCases == [.books, .gather, .summaries, .decisions, .results, .queue, .liquidations, .publication])
    }
}
