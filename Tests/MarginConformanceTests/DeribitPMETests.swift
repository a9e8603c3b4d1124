import Foundation
import Testing
import MarginConformance
import MarginCore
import MarginSchema

/// Deribit's published `private/pme/simulate` example reproduced by the engine, refusals of bad
/// responses, and the `deribit-like` preset against the published parameters.
@Suite("Deribit portfolio margin (pme/simulate)")
struct DeribitPMETests {
    static func example() throws -> Data { try Fixtures.data("deribit-pme/btc_doc_example.json") }

    @Test("The API reference's BTC example: 70 instrument entries, 35 aggregated, worst case and bucket, shocks, RMM, MM, IM")
    func publishedExample() throws {
        let testCase = try DeribitPMECase(name: "btc_doc_example", data: Self.example())
        #expect(testCase.timestampMs == 1_718_619_740_501)
        #expect(testCase.runs.map(\.currency) == ["btc"])
        #expect(testCase.comparedCount == 113)
        let mismatch = testCase.check()
        #expect(mismatch == nil, "\(mismatch?.description ?? "")")
        let run = try #require(testCase.runs.first)
        let (values, bucket) = try DeribitPMECase.evaluate(run, timestampMs: testCase.timestampMs)
        #expect(bucket == DeribitPMEProfile.WorstCaseBucket(bucket: 1, side: "left", source: "standard", index: 1))
        #expect(abs(values["risk_matrix_margin_details.roll_shock"]! - 0.00315725898) < 1e-12)
        #expect(values["risk_matrix_margin_details.delta_shock"] == 0)
        // Deribit rounds RMM (0.06284313098 against 0.06284313136 from its own worst case and roll shock).
        #expect(abs(values["maintenance_margin"]! - 0.050274504784) < 1e-9)
    }

    @Test("A changed published number is caught (the comparison can fail)")
    func detectsDisagreement() throws {
        var json = try #require(try JSONSerialization.jsonObject(with: Self.example()) as? [String: Any])
        var result = json["result"] as! [String: Any]
        var margins = result["margins"] as! [String: Any]
        var btc = margins["btc"] as! [String: Any]
        btc["maintenance_margin"] = 0.0503
        margins["btc"] = btc
        result["margins"] = margins
        json["result"] = result
        let testCase = try DeribitPMECase(name: "changed", data: JSONSerialization.data(withJSONObject: json))
        #expect(testCase.check()?.field == "margins.btc: maintenance_margin")
    }

    @Test("Bad responses are refused naming the field", arguments: [
        ("unknown instrument", "BTC-FOO", "$.result.portfolio.position.BTC-FOO"),
        ("missing model_params", "", "$.result.model_params"),
        ("NaN index", "NaN", "$.result.index_price.btc_usd"),
    ])
    func refusals(name: String, value: String, field: String) throws {
        var json = try #require(try JSONSerialization.jsonObject(with: Self.example()) as? [String: Any])
        var result = json["result"] as! [String: Any]
        switch name {
        case "unknown instrument":
            var portfolio = result["portfolio"] as! [String: Any]
            var positions = portfolio["position"] as! [String: Any]
            positions[value] = 1
            portfolio["position"] = positions
            result["portfolio"] = portfolio
        case "missing model_params":
            result["model_params"] = nil
        default:
            result["index_price"] = ["btc_usd": value]
        }
        json["result"] = result
        let data = try JSONSerialization.data(withJSONObject: json)
        #expect {
            _ = try DeribitPMECase(name: name, data: data)
        } throws: { error in
            guard case ConformanceError.malformed(let path, _) = error else { return false }
            return path == field
        }
    }

    @Test("Instrument names: inverse and USDC-settled perpetuals, futures and options at 08:00 UTC")
    func instrumentNames() throws {
        let future = try DeribitPMEProfile.instrument(named: "BTC-28JUN24", path: "$")
        #expect(future.kind == .future(expiryMs: 1_719_561_600_000) && future.settlement == .inverse)
        let option = try DeribitPMEProfile.instrument(named: "XRP_USDC-30JUN23-0d625-C", path: "$")
        #expect(option.kind == .option(expiryMs: 1_688_112_000_000, strike: 0.625, right: .call) && option.settlement == .linear)
        #expect(try DeribitPMEProfile.instrument(named: "ETH-PERPETUAL", path: "$").kind == .perpetual)
        #expect(throws: ConformanceError.self) { try DeribitPMEProfile.instrument(named: "BTC-31FOO24", path: "$") }
        #expect(throws: ConformanceError.self) { try DeribitPMEProfile.instrument(named: "BTC-28JUN24-60000-X", path: "$") }
    }

    @Test("The deribit-like preset carries Deribit's June 2024 published set for BTC and ETH")
    func presetIsThePublishedSet() throws {
        let preset = try RiskPresets.load("deribit-like")
        let published = DeribitPMEProfile.unit(pair: DeribitPMEProfile.june2024Pair, currency: DeribitPMEProfile.june2024USD,
                                               mmFactor: DeribitPMEProfile.june2024MMFactor)
        for underlying in ["BTC", "ETH"] {
            var unit = try #require(preset.riskUnits[underlying])
            // The engine's own additions, not Deribit's.
            unit.liquidityCost = nil
            unit.liquidityAddOn = nil
            unit.concentrationAddOn = nil
            #expect(unit.scenarios.count == published.scenarios.count)
            for (a, b) in zip(unit.scenarios, published.scenarios) {
                #expect(abs(a.spotShock - b.spotShock) < 1e-12 && a.volatilityShock == b.volatilityShock && a.kind == b.kind && a.dampening == b.dampening)
            }
            unit.scenarios = published.scenarios
            #expect(unit == published)
        }
    }
}
