import EngineTestSupport
import MarginCore
import Testing
@testable import MarginEngineCore

/// One definition of the markets an account's valuation reads, for re-margin triggers and staleness.
@Suite("Markets an account reads")
struct MarketsReadTests {
    @Test("A collateral asset with its own market: its ticks re-margin the account and its staleness marks it stale")
    func collateralMarket() async throws {
        let clock = TestClock(1_700_000_000_000)
        var settings = EngineSettings()
        settings.staleAfter = .seconds(10)
        let weeth = Instrument(name: "WEETH", underlying: "ETH", kind: .spot)
        let now = clock.value
        let account = Account(id: "c", version: 1, balances: ["USDC": 1_000, "WEETH": 10],
                              positions: [Position(instrument: "ETH-PERPETUAL", quantity: -5, averageEntryPrice: 3_000)])
        let engine = await EngineFixture.engine(settings: settings, clock: { clock.value }, instruments: TestWorld.instruments + [weeth],
                                                markets: EngineFixture.markets + [UnderlyingMarket(underlying: "WEETH", timestampMs: now, indexPrice: 3_100)],
                                                accounts: [account])
        let key = AccountKey(partition: 0, id: "c")
        #expect(await engine.accounts.keys(exposedTo: "WEETH").contains(key), "WEETH ticks re-margin the account")
        #expect(await engine.accounts.keys(exposedTo: "ETH").contains(key))
        // WEETH goes stale while ETH, BTC and USDC stay fresh: the account is stale.
        clock.advance(20_000)
        for (offset, market) in [TestWorld.btc(index: 60_000, at: clock.value), TestWorld.eth(index: 3_000, at: clock.value),
                                 TestWorld.usdc(at: clock.value)].enumerated() {
            await engine.handleReference(EngineFixture.market(market, offset: 11 + Int64(offset)))
        }
        await engine.tick()
        #expect(await engine.status().staleUnderlyings == ["WEETH"])
        #expect(await engine.accounts[key]?.effectiveHealth == .stale)
    }
}
