import EngineTestSupport
import Foundation
import MarginDemo
import MarginEngineCore
import TestSupport
import Testing

@Suite("The demo, small", .tags(.demo))
struct DemoTests {
    @Test("A 300-account demo: every liquidatable account handled, none healthy instructed, counts consistent")
    func smallDemo() async throws {
        var options = DemoOptions()
        options.accounts = 300
        options.speed = 40
        options.showStatus = false
        let summary = try await DemoRunner(options: options, logger: WorkerHarness.logger).run(print: { _ in }, status: { _ in })
        #expect(summary.healthBefore.values.reduce(0, +) == 300)
        #expect(summary.healthAfter.values.reduce(0, +) == 300)
        #expect(summary.unhandledLiquidatable.isEmpty)
        #expect(summary.instructionsOnHealthyAccounts.isEmpty)
        #expect(summary.instructions + summary.cancels == summary.instructionsRead)
        #expect(summary.resultsRead >= 300)
        #expect(summary.instructions > 0, "the crash should make some accounts liquidatable")
        #expect(summary.sviFitRMSVolPoints.count == 7)
        #expect(summary.droppedByEmbeddedBroker.isEmpty, "inside the embedded broker's limits")
        // The in-process calibrator published the opening version and recalibrated during the crash.
        let versions = summary.calibration.map(\.version)
        #expect(versions.first == 1 && versions == versions.sorted())
        try #require(versions.count >= 2, "a recalibration during the crash")
        let opening = try #require(summary.calibration.first), last = try #require(summary.calibration.last)
        #expect(last.priceRange > opening.priceRange)
        #expect(last.reason.contains("EWMA vol"))
    }
}
