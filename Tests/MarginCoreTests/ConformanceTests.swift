import Foundation
import Testing
import MarginConformance

@Suite("Derive PMRM_2 golden cases")
struct DerivePMRM2Tests {
    /// Case 67 puts a spot shock on a skew scenario; Derive's own Solidity driver skips it as an
    /// invalid configuration and the engine's interpretation (shock the forward and tilt the smile)
    /// differs from the generator's for that scenario — which then binds, so MM and IM differ too.
    /// Every other field of it must agree. (Open question, recorded in the README.)
    static let knownDeviations: [String: Set<String>] = [
        "test_67_misc_skew_scenario_with_spot_move.json": ["skew_losses[1]", "MM", "IM"],
    ]

    static var caseFiles: [URL] { (try? Fixtures.files(in: "derive-pmrm2", withExtension: "json")) ?? [] }

    @Test("70 provided cases are present")
    func casesPresent() {
        #expect(Self.caseFiles.count == 70)
    }

    @Test("Every scenario PnL, contingency, MM and IM agrees", arguments: caseFiles)
    func caseAgrees(file: URL) throws {
        let testCase = try DerivePMRM2Case(name: file.lastPathComponent, data: Data(contentsOf: file))
        let values = try DerivePMRM2Profile.evaluate(testCase)
        let skipped = Self.knownDeviations[file.lastPathComponent] ?? []
        #expect(testCase.expected.count >= 31 + 11 - 1)
        for (field, expected) in testCase.expected where !skipped.contains(field) {
            let actual = try #require(values[field], "\(field) not computed")
            #expect(DerivePMRM2Profile.agrees(actual, expected), "\(field): expected \(expected), got \(actual)")
        }
    }
}
