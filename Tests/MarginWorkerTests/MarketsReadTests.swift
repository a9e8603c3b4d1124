import Foundation
import KafkaClient
import MarginCore
import MarginSchema
import Testing
@testable import MarginWorker

/// One definition of the markets an account's valuation reads, for re-margin triggers and staleness.
@Suite("Markets an account reads")
struct MarketsReadTests {
    @Test("A collateral asset with its own market: its ticks re-margin the account and its staleness marks it stale")
    func collateralMarket() async throws {
        let clock = TestClock(1_700_000_000_000)
        var configuration = WorkerConfiguration()
        configuration.staleAfterMs = 10_000
        let topics = configuration.topics
        let weeth = Instrument(name: "WEETH", underlying: "ETH", kind: .spot)
        let now = clock.value
        let account = Account(id: "c", version: 1, balances: ["USDC": 1_000, "WEETH": 10],
                              positions: [Position(instrument: "ETH-PERPETUAL", quantity: -5, averageEntryPrice: 3_000)])
        let engine = await EngineFixture.engine(configuration: configuration, clock: { clock.value }, instruments: TestWorld.instruments + [weeth],
                                                markets: EngineFixture.markets + [UnderlyingMarket(underlying: "WEETH", timestampMs: now, indexPrice: 3_100)],
                                                accounts: [account])
        var offset: Int64 = 10
        func record(_ topic: String, _ key: String, _ value: Data) -> KafkaMessage {
            offset += 1
            return EngineFixture.record(topic, key, value, offset: offset, at: clock.value)
        }
        let key = AccountKey(partition: 0, id: "c")
        #expect(await engine.accounts.keys(exposedTo: "WEETH").contains(key), "WEETH ticks re-margin the account")
        #expect(await engine.accounts.keys(exposedTo: "ETH").contains(key))
        // WEETH goes stale while ETH, BTC and USDC stay fresh: the account is stale.
        clock.advance(20_000)
        for market in [TestWorld.btc(index: 60_000, at: clock.value), TestWorld.eth(index: 3_000, at: clock.value), TestWorld.usdc(at: clock.value)] {
            await engine.handleReference(.message(record(topics.market, market.underlying, SchemaCoding.encode(market.proto, format: .protobuf))))
        }
        await engine.tick()
        #expect(await engine.status().staleUnderlyings == ["WEETH"])
        #expect(await engine.accounts[key]?.effectiveHealth == .stale)
    }
}
