import MarginCore
import Testing
@testable import MarginEngineCore

/// The publication rule alone (no broker): versions and health always publish, market-driven moves
/// only past the threshold.
@Suite("Publication rule")
struct PublicationRuleTests {
    static func summary(mm: Double, im: Double, health: HealthState = .healthy) -> MarginSummary {
        MarginSummary(grossEquity: 10_000, equity: 10_000, initialEquity: 10_000, maintenanceRequirement: mm, initialRequirement: im, health: health)
    }

    @Test("Nothing published yet, a new version or a health change: publish; MM/IM moves only beyond the threshold")
    func rule() {
        let policy = PublicationPolicy(threshold: 0.01)
        let held = PublishedResult(resultID: "res-1", accountVersion: 3, health: .healthy, maintenance: 1_000, initial: 1_500)
        #expect(policy.shouldPublish(nil, version: 3, health: .healthy, summary: Self.summary(mm: 1_000, im: 1_500)))
        #expect(policy.shouldPublish(held, version: 4, health: .healthy, summary: Self.summary(mm: 1_000, im: 1_500)), "a new version, same numbers")
        #expect(policy.shouldPublish(held, version: 3, health: .belowInitial, summary: Self.summary(mm: 1_000, im: 1_500)))
        #expect(!policy.shouldPublish(held, version: 3, health: .healthy, summary: Self.summary(mm: 1_009, im: 1_514)), "within 1 %")
        #expect(policy.shouldPublish(held, version: 3, health: .healthy, summary: Self.summary(mm: 1_011, im: 1_500)), "MM moved 1.1 %")
        #expect(policy.shouldPublish(held, version: 3, health: .healthy, summary: Self.summary(mm: 1_000, im: 1_480)), "IM moved 1.3 %")
        #expect(!PublicationPolicy(threshold: 100).shouldPublish(held, version: 3, health: .healthy, summary: Self.summary(mm: 2_000, im: 3_000)))
    }

    @Test("The rule: only a market-driven move past the threshold is summarised; force, versions and health changes are full")
    func summaryRule() {
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
}
