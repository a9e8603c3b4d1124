import MarginCore
import Testing
@testable import MarginEngineCore

/// Result ids hashed part by part against the ids of the joined strings they always were: an id
/// names one content forever, across versions of the worker.
@Suite("Deterministic ids")
struct DeterministicIDTests {
    @Test("A result id is DeterministicID.make over the strings of its parts, on random contents")
    func resultIDsMatchTheJoinedStrings() {
        var generator = SeededGenerator(seed: 808)
        let names = ["", "a", "acct-000123", "ü€𝄞 😀", "BTC", "ETH", "USDC", String(repeating: "z", count: 40)]
        let integers: [Int64] = [0, 1, -1, 9, 10, 99, 100, 1_700_000_000_123, -1_700_000_000_123, .max, .min]
        for _ in 0..<3_000 {
            let account = Account(id: names.randomElement(using: &generator)! + String(Int.random(in: 0...999, using: &generator)),
                                  version: [0, 1, 10, UInt64.max, UInt64.random(in: 0 ... .max, using: &generator)].randomElement(using: &generator)!)
            let set = (id: names.randomElement(using: &generator)!, version: integers.randomElement(using: &generator)!)
            let health = HealthState.allCases.randomElement(using: &generator)!
            var timestamps: [String: Int64] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &generator) {
                timestamps[names.randomElement(using: &generator)!] = Bool.random(using: &generator)
                    ? integers.randomElement(using: &generator)! : Int64.random(in: .min ... .max, using: &generator)
            }
            let summaryOnly = Bool.random(using: &generator)
            var parts = [account.id, String(account.version), set.id, String(set.version), health.rawValue]
            for (underlying, timestamp) in timestamps.sorted(by: { $0.key < $1.key }) { parts.append("\(underlying)@\(timestamp)") }
            if summaryOnly { parts.append("summary") }
            #expect(MarginEngine.resultID(account, parameterSet: set, health: health, marketTimestamps: timestamps, summaryOnly: summaryOnly)
                    == DeterministicID.make("res", parts))
        }
    }

    @Test("The joined strings' id is FNV-1a over their bytes with 0x1f between parts, as 16 hex digits")
    func knownValues() {
        // FNV-1a 64 of the empty input is the offset basis; of "a" it is af63dc4c8601ec8c (the published test vector).
        #expect(DeterministicID.make("x", []) == "x-cbf29ce484222325")
        #expect(DeterministicID.make("x", ["a"]) == "x-af63dc4c8601ec8c")
        #expect(DeterministicID.make("res", ["a", "1"]) != DeterministicID.make("res", ["a1"]), "the separator keeps parts apart")
    }
}
