import EngineTestSupport
import MarginCore
import Testing
@testable import MarginEngineCore

/// `market_results: summary`: a market-driven republish carries the figures without the
/// explanation; everything else stays a full result.
@Suite("Summary results for market moves")
struct SummaryResultsTests {
    @Test("A BTC move republishes a summary with the full result's figures under its own id; a new version is explained")
    func engine() async throws {
        var settings = EngineSettings()
        settings.marketResults = .summary
        settings.refreshInterval = .zero
        let clock = TestClock(EngineFixture.now)
        let account = Account(id: "p", version: 1, balances: ["USDC": 1_000_000],
                              positions: [Position(instrument: "BTC-PERPETUAL", quantity: 10, averageEntryPrice: 60_000)])
        let engine = await EngineFixture.engine(settings: settings, clock: { clock.value }, accounts: [account])
        let first = await engine.batch.results.map(\.result)
        let firstResult = try #require(first.first?.full)
        #expect(first.count == 1 && !firstResult.riskUnits.isEmpty, "the first result is explained")
        _ = try #require(await engine.commitBatch())

        clock.advance(1_000)
        await engine.handleReference(EngineFixture.market(TestWorld.btc(index: 66_000, at: clock.value), offset: 20))
        await engine.tick()
        let movedOutput = try #require(await engine.batch.results.first?.result)
        guard case .summary(let movedID, let movedAccount, let moved, _, let asOfMs, let timestamps) = movedOutput else {
            Issue.record("a market-driven move is summarised, got \(movedOutput)")
            return
        }
        #expect(moved.health == firstResult.health && movedAccount.version == 1)
        #expect(timestamps["BTC"] == clock.value && asOfMs == clock.value)
        #expect(moved.maintenanceRequirement > firstResult.maintenanceRequirement * 1.05, "a 10 % move of a perpetual")
        // The explanation is on demand, with the same figures under a different id.
        let answer = try #require(await engine.currentResult(accountID: "p"))
        let explained = try #require(answer.result.full)
        #expect(!explained.riskUnits.isEmpty)
        #expect(answer.result.id != movedID)
        #expect(abs(explained.maintenanceRequirement - moved.maintenanceRequirement) <= 1e-9 * explained.maintenanceRequirement)
        #expect(abs(explained.equity - moved.equity) <= 1e-9 * abs(explained.equity))
        _ = try #require(await engine.commitBatch())

        // A new version: explained again.
        var next = account
        next.version = 2
        await engine.handleAccounts(EngineFixture.account(next, offset: 5))
        let versioned = try #require(await engine.batch.results.first?.result.full)
        #expect(!versioned.riskUnits.isEmpty && versioned.accountVersion == 2)
    }
}
