import Foundation
import Testing
import TestSupport
import MarginDemo

@Suite("The demo, small")
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
        // The in-process calibrator published the opening version and recalibrated during the crash.
        let versions = summary.calibration.map(\.version)
        #expect(versions.first == 1 && versions.count >= 2 && versions == versions.sorted())
        #expect(summary.calibration.last!.priceRange > summary.calibration.first!.priceRange)
        #expect(summary.calibration.last!.reason.contains("EWMA vol"))
    }
}
