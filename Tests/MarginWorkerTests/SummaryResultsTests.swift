import Foundation
import KafkaClient
import MarginCore
import MarginSchema
import Testing
@testable import MarginWorker

/// `market_results: summary`: a market-driven republish carries the figures without the
/// explanation; everything else stays a full result.
@Suite("Summary results for market moves")
struct SummaryResultsTests {
    static func results(_ engine: MarginEngine) async throws -> [Margin_V1_MarginResult] {
        try await engine.batch.records.filter { $0.topic == TopicNames().results }.map {
            try SchemaCoding.decode(Margin_V1_MarginResult.self, from: try #require($0.value), format: .protobuf)
        }
    }

    @Test("The rule: only a market-driven move past the threshold is summarised; force, versions and health changes are full")
    func rule() {
        let policy = PublicationPolicy(threshold: 0.01, summarizeMarketMoves: true)
        let held = PublishedResult(resultID: "res-1", accountVersion: 3, health: .healthy, maintenance: 1_000, initial: 1_500)
        func summary(_ mm: Double, _ health: HealthState = .healthy) -> MarginSummary {
            MarginSummary(grossEquity: 1e5, equity: 1e5, initialEquity: 1e5, maintenanceRequirement: mm, initialRequirement: 1_500, health: health)
        }
        #expect(policy.publication(nil, version: 3, health: .healthy, summary: summary(1_000), force: false) == .full)
        #expect(policy.publication(held, version: 3, health: .healthy, summary: summary(1_005), force: false) == .nothing)
        #expect(policy.publication(held, version: 3, health: .healthy, summary: summary(1_100), force: false) == .summary)
        #expect(policy.publication(held, version: 3, health: .healthy, summary: summary(1_000), force: true) == .full)
        #expect(policy.publication(held, version: 4, health: .healthy, summary: summary(1_100), force: false) == .full)
        #expect(policy.publication(held, version: 3, health: .belowInitial, summary: summary(1_100, .belowInitial), force: false) == .full)
        #expect(PublicationPolicy(threshold: 0.01).publication(held, version: 3, health: .healthy, summary: summary(1_100), force: false) == .full)
    }

    @Test("A BTC move republishes a summary with the full result's figures under its own id; a new version is explained")
    func engine() async throws {
        var configuration = WorkerConfiguration()
        try configuration.set("market_results", "summary")
        configuration.refreshIntervalMs = 0
        let clock = TestClock(EngineFixture.now)
        let account = Account(id: "p", version: 1, balances: ["USDC": 1_000_000],
                              positions: [Position(instrument: "BTC-PERPETUAL", quantity: 10, averageEntryPrice: 60_000)])
        let engine = await EngineFixture.engine(configuration: configuration, clock: { clock.value }, accounts: [account])
        let first = try await Self.results(engine)
        #expect(first.count == 1 && !first[0].summaryOnly && !first[0].riskUnits.isEmpty, "the first result is explained")
        let batch = try #require(await engine.takeBatch())
        await engine.finishBatch(batch, committed: true)

        clock.advance(1_000)
        await engine.handleReference(.message(EngineFixture.marketRecord(TestWorld.btc(index: 66_000, at: clock.value), offset: 20)))
        await engine.tick()
        let moved = try #require(try await Self.results(engine).first)
        #expect(moved.summaryOnly && moved.riskUnits.isEmpty && moved.equityComponents.isEmpty)
        #expect(moved.health == first[0].health && moved.accountVersion == 1)
        #expect(moved.marketTimestamps["BTC"] == clock.value && moved.asOfMs == clock.value)
        #expect(moved.maintenanceRequirement > first[0].maintenanceRequirement * 1.05, "a 10 % move of a perpetual")
        // The explanation is on demand, with the same figures under a different id.
        let explained = try #require(await engine.currentResult(accountID: "p"))
        #expect(!explained.summaryOnly && !explained.riskUnits.isEmpty)
        #expect(explained.resultID != moved.resultID)
        #expect(abs(explained.maintenanceRequirement - moved.maintenanceRequirement) <= 1e-9 * explained.maintenanceRequirement)
        #expect(abs(explained.equity - moved.equity) <= 1e-9 * abs(explained.equity))
        let second = try #require(await engine.takeBatch())
        await engine.finishBatch(second, committed: true)

        // A new version: explained again.
        var next = account
        next.version = 2
        await engine.handleAccounts(.message(EngineFixture.accountRecord(next, offset: 5)))
        let versioned = try #require(try await Self.results(engine).first)
        #expect(!versioned.summaryOnly && !versioned.riskUnits.isEmpty && versioned.accountVersion == 2)
    }
}
