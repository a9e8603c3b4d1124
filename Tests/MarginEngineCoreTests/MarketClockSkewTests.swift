import EngineTestSupport
import MarginCore
import Testing
@testable import MarginEngineCore

/// A market snapshot dated beyond `max_clock_skew_ms` ahead of the worker's clock is refused: it
/// would hold its underlying's market (later, correct snapshots look older) until that time.
@Suite("Market snapshots from the future")
struct MarketClockSkewTests {
    static let now = EngineFixture.now

    @Test("A snapshot dated beyond max_clock_skew_ms is dead-lettered and does not freeze its underlying")
    func futureSnapshotDeadLettered() async throws {
        // Clock fixed at `now`, BTC at `now`.
        let engine = await EngineFixture.engine(accounts: TestWorld.accounts(btc: 1, eth: 1))
        let twoDaysAhead = Self.now + 2 * 86_400_000
        await engine.handleReference(EngineFixture.market(TestWorld.btc(index: 90_000, at: twoDaysAhead), offset: 10))

        let letters = await engine.batch.deadLetters
        try #require(letters.count == 1)
        #expect(letters[0].reason == "invalid_input")
        #expect(letters[0].source.partition.topic == EngineFixture.Topic.market && letters[0].source.offset == 10)
        #expect(letters[0].error.contains("market.timestamp_ms") && letters[0].error.contains("future"), "error: \(letters[0].error)")
        #expect(await engine.reference.data.markets["BTC"]?.timestampMs == Self.now, "the future snapshot must not be held")

        // A current snapshot (within the skew) is still accepted and processed.
        let current = Self.now + 4_000
        await engine.handleReference(EngineFixture.market(TestWorld.btc(index: 61_000, at: current), offset: 11))
        #expect(await engine.reference.data.markets["BTC"]?.timestampMs == current)
        await engine.tick()
        let status = await engine.status()
        #expect(status.processedMarketMs["BTC"] == current)
        #expect(status.staleUnderlyings.isEmpty)
        #expect(await engine.batch.deadLetters.count == 1)
    }

    @Test("With max_clock_skew_ms 0 any snapshot ahead of the clock is refused; its dead letter waits for partition 0's owner")
    func zeroSkew() async throws {
        var settings = EngineSettings()
        settings.maxClockSkew = .zero
        let now = Self.now
        let engine = MarginEngine(settings: settings, preset: EngineFixture.preset, logger: EngineFixture.logger, clock: { now })
        await engine.handleReference(EngineFixture.market(TestWorld.btc(index: 60_000, at: now + 1), offset: 0))
        #expect(await engine.reference.data.markets["BTC"] == nil)
        await engine.handleReference(EngineFixture.market(TestWorld.btc(index: 60_000, at: now), offset: 1))
        #expect(await engine.reference.data.markets["BTC"]?.timestampMs == now)
        // No accounts partition is owned here: the reference dead letter waits for the owner of partition 0.
        #expect(await engine.pendingReferenceDeadLetters.count == 1)
        #expect(await engine.batch.deadLetters.isEmpty)
        await engine.assignShards([ShardAssignment(partition: 0, restoreTarget: 0)])
        #expect(await engine.batch.deadLetters.map(\.source.offset) == [0], "published once partition 0 is owned")
    }
}
