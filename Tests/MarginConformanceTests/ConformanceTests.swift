import Foundation
import Testing
import MarginConformance

@Suite("Derive PMRM_2 golden cases")
struct DerivePMRM2Tests {
    static var caseFiles: [URL] { (try? Fixtures.files(in: "derive-pmrm2", withExtension: "json")) ?? [] }

    @Test("70 provided cases are present")
    func casesPresent() {
        #expect(Self.caseFiles.count == 70)
    }

    @Test("Every scenario PnL, contingency, MM and IM agrees", arguments: caseFiles)
    func caseAgrees(file: URL) throws {
        let testCase = try DerivePMRM2Case(name: file.lastPathComponent, data: Data(contentsOf: file))
        let values = try DerivePMRM2Profile.evaluate(testCase)
        #expect(testCase.expected.count >= 31 + 11 - 1)
        for (field, expected) in testCase.expected {
            let actual = try #require(values[field], "\(field) not computed")
            #expect(DerivePMRM2Profile.agrees(actual, expected), "\(field): expected \(expected), got \(actual)")
        }
    }

    @Test("A case mixing spot-moved and plain linear skew scenarios is refused, not silently mis-capped")
    func mixedLinearSkewScenariosRefused() throws {
        let file = try #require(Self.caseFiles.first { $0.lastPathComponent.hasPrefix("test_67_") })
        var root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        var parameters = try #require(root["Parameters"] as? [String: Any])
        var scenarios = try #require(parameters["Scenarios"] as? [[String: Any]])
        scenarios.append(["SpotShock": 1, "VolShockDirection": "LINEAR", "DampeningFactor": 1])
        parameters["Scenarios"] = scenarios
        root["Parameters"] = parameters
        let data = try JSONSerialization.data(withJSONObject: root)
        #expect(throws: ConformanceError.self) { try DerivePMRM2Case(name: "mixed", data: data) }
    }
}
