import Foundation
import MarginCore
import MarginDemo
import MarginSchema
import Testing
@testable import MarginCascade

@Suite("Cascade: whole runs")
struct CascadeRunTests {
    /// A short crash: 8 % in five minutes with depth cut to 5 %, one-minute steps.
    static let crash = CascadeScenario(name: "short-crash", description: "8 % in five minutes", stepSeconds: 60, bookHalfLifeSeconds: 120, path: [
        .init(seconds: 0, indexMovePercent: 0, volatilityMultiplier: 1, depthMultiplier: 1),
        .init(seconds: 300, indexMovePercent: -8, volatilityMultiplier: 1.5, depthMultiplier: 0.05, skewShift: 0.1),
        .init(seconds: 420, indexMovePercent: -7, volatilityMultiplier: 1.4, depthMultiplier: 0.2),
    ])

    @Test("The same seed gives the same JSON; cash and positions are conserved at every step; every number is finite")
    func deterministicAndConserved() throws {
        let world = try CascadeWorld(accounts: 120, seed: 7, parameters: try RiskPresets.load("deribit-like"))
        let first = try CascadeSimulator.run(world: world, scenario: Self.crash, policies: [.default, .naive])
        let again = try CascadeSimulator.run(world: try CascadeWorld(accounts: 120, seed: 7, parameters: try RiskPresets.load("deribit-like")),
                                             scenario: Self.crash, policies: [.default, .naive])
        #expect(try first.jsonData() == again.jsonData())
        for (name, policy) in first.policies {
            #expect(policy.maxConservationError < 1e-6, "policy \(name)")
            #expect(policy.steps.count == Self.crash.stepCount + 1)
            #expect(policy.liquidatedAccounts > 0, "policy \(name): the crash liquidates someone")
        }
        // The JSON carries the contract's fields for each policy.
        let json = try #require(try JSONSerialization.jsonObject(with: first.jsonData()) as? [String: Any])
        #expect(json["scenario"] as? String == "short-crash" && json["seed"] as? Int == 7 && json["accounts"] as? Int == 120)
        let naive = try #require((json["policies"] as? [String: Any])?["naive"] as? [String: Any])
        for field in ["waves", "liquidated_notional_usd", "endogenous_impact_pct", "cascade_ratio", "bankrupt_accounts", "bad_debt_usd",
                      "insurance_fund_used_usd", "adl_notional_usd"] {
            #expect(naive[field] is NSNumber, "\(field)")
        }
        // Naive closes in full: it never liquidates less than the default.
        #expect(first.policies["naive"]!.liquidatedNotional >= first.policies["default"]!.liquidatedNotional)
    }

    @Test("Scenario files: loaded and interpolated; impossible paths refused with the field named")
    func scenarioFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cascade-\(UInt64.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("good.json")
        try Data("""
        {"name": "file", "description": "a file", "step_seconds": 30, "book_half_life_seconds": 60,
         "path": [{"t_seconds": 0, "index_move_pct": 0, "vol_multiplier": 1, "depth_multiplier": 1},
                  {"t_seconds": 120, "index_move_pct": -10, "vol_multiplier": 2, "depth_multiplier": 0.2, "skew_shift": 0.1}]}
        """.utf8).write(to: good)
        let scenario = try CascadeScenario.named(good.path)
        #expect(scenario.stepCount == 4)
        let middle = scenario.state(atSeconds: 60)
        #expect(abs(middle.move.indexFactor - 0.95) < 1e-12 && abs(middle.move.volatilityFactor - 1.5) < 1e-12)
        #expect(abs(middle.depthMultiplier - 0.6) < 1e-12 && abs(middle.move.skewShift - 0.05) < 1e-12)
        #expect(scenario.state(atSeconds: 500).move.indexFactor == 0.9)
        for (text, field) in [
            (#"{"name": "x", "description": "", "step_seconds": 30, "book_half_life_seconds": 60, "path": [{"t_seconds": 0, "index_move_pct": 0, "vol_multiplier": 1, "depth_multiplier": 0}, {"t_seconds": 60, "index_move_pct": 0, "vol_multiplier": 1, "depth_multiplier": 1}]}"#, "path[0].depth_multiplier"),
            (#"{"name": "x", "description": "", "step_seconds": 30, "book_half_life_seconds": 60, "path": [{"t_seconds": 0, "index_move_pct": 0, "vol_multiplier": 1, "depth_multiplier": 1}, {"t_seconds": 0, "index_move_pct": -5, "vol_multiplier": 1, "depth_multiplier": 1}]}"#, "path[1].t_seconds"),
            (#"{"name": "x", "description": "", "step_seconds": 30, "book_half_life_seconds": 60, "path": [{"t_seconds": 0, "index_move_pct": 0, "vol_multiplier": 1, "depth_multiplier": 1}, {"t_seconds": 60, "index_move_pct": -100, "vol_multiplier": 1, "depth_multiplier": 1}]}"#, "path[1].index_move_pct"),
            (#"{"name": "x", "description": "", "step_seconds": 0.5, "book_half_life_seconds": 60, "path": [{"t_seconds": 0, "index_move_pct": 0, "vol_multiplier": 1, "depth_multiplier": 1}, {"t_seconds": 60, "index_move_pct": 0, "vol_multiplier": 1, "depth_multiplier": 1}]}"#, "step_seconds"),
            (#"{"name": "x"}"#, "scenario"),
        ] {
            let file = directory.appendingPathComponent("bad.json")
            try Data(text.utf8).write(to: file)
            #expect {
                _ = try CascadeScenario.named(file.path)
            } throws: { error in
                guard case MarginError.invalidInput(let named, _) = error else { return false }
                return named == "scenario.\(field)" || named == field
            }
        }
        #expect(throws: MarginError.self) { _ = try CascadeScenario.named(directory.appendingPathComponent("missing.json").path) }
    }

    @Test("The built-in scenarios: oct-2025 falls 12 % over 45 minutes; mar-2020 is the bundled day's close-to-close move")
    func builtins() throws {
        let october = try CascadeScenario.named("oct-2025")
        try october.validate()
        #expect(abs(october.state(atSeconds: 2_700).move.indexFactor - 0.88) < 1e-12)
        let march = try CascadeScenario.named("mar-2020")
        try march.validate()
        // 11 March 2020 close 7,911.43, 12 March 4,970.79 (the bundled Yahoo Finance BTC-USD closes).
        #expect(abs(march.state(atSeconds: 86_400).move.indexFactor - 4_970.7880859375 / 7_911.43017578125) < 1e-12)
    }
}
