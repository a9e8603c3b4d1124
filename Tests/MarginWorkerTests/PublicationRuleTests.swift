import MarginCore
import Testing
@testable import MarginWorker

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
}
