import Foundation
import Testing
import MarginCore
import MarginSchema
import MarginTesting

@Suite("Schemas and presets")
struct SchemaTests {
    @Test("Shipped presets decode and validate", arguments: RiskPresets.names)
    func presetsLoad(name: String) throws {
        let parameters = try RiskPresets.load(name)
        #expect(parameters.id == name)
        #expect(parameters.riskUnits["BTC"] != nil)
        #expect(parameters.riskUnits["ETH"] != nil)
    }

    @Test("Deribit-like preset: ±16% in 9 points × up/none/down, 8 extended moves −66%..+500% on vol up, delta-one at the edge")
    func deribitPresetShape() throws {
        let unit = try #require(try RiskPresets.load("deribit-like").riskUnits["BTC"])
        let regular = unit.scenarios.filter { $0.kind == .regular }
        #expect(regular.count == 27)
        #expect(Set(regular.map(\.spotShock)).count == 9)
        #expect(abs((regular.map(\.spotShock).max() ?? 0) - 1.16) < 1e-12)
        let tails = unit.scenarios.filter { $0.kind == .tail }
        #expect(tails.count == 8 && tails.allSatisfy { $0.volatilityShock == .up && $0.dampening == 1 })
        #expect(abs((tails.map(\.spotShock).min() ?? 0) - 0.34) < 1e-12 && abs((tails.map(\.spotShock).max() ?? 0) - 6) < 1e-12)
        #expect(unit.volatilityShock.rangeUp == 0.5 && unit.volatilityShock.rangeDown == 0.25)
        #expect(unit.maintenanceFactor == 0.8 && unit.deltaOneInTail == .standardRangeEdge && unit.extendedDampener == 25_000)
        #expect(unit.rollShock == RollShockRule(annualisedMoveRisk: 0.1, minimumAnnualisedMove: 0.01))
        #expect(unit.shortOptionContingency == nil && unit.deltaOneContingency == nil)
    }

    @Test("Deribit-like: a long and a short linear BTC perpetual each cost 8–25 % of notional in MM, bound at the ±16 % edge")
    func deltaOneCapitalEfficiency() throws {
        let parameters = try RiskPresets.load("deribit-like")
        let calculator = MarginCalculator(parameters: parameters)
        var (market, catalog) = SyntheticBook.market(underlying: "BTC", index: 50_000, strikesPerExpiry: 4)
        market.perpetualMark = 50_000
        let markets = MarketState([market, UnderlyingMarket(underlying: "USDC", timestampMs: market.timestampMs, indexPrice: 1)])
        var fractions: [Double] = []
        for quantity in [1.0, -1.0] {
            let account = Account(id: "perp", balances: ["USDC": 1_000_000],
                                  positions: [Position(instrument: "BTC-PERPETUAL", quantity: quantity, averageEntryPrice: 50_000)])
            let result = try calculator.margin(account: account, catalog: catalog, markets: markets, asOfMs: market.timestampMs)
            fractions.append(result.maintenanceRequirement / 50_000)
            #expect(result.riskUnits[0].bindingLabel.contains(quantity > 0 ? "spot -16%" : "spot +16%"))
            #expect(result.riskUnits[0].bindingLabel.contains("standard-range edge"))
            #expect(result.riskUnits[0].contingencies.contains { $0.name == "roll_shock" })
        }
        #expect(fractions.allSatisfy { $0 >= 0.08 && $0 <= 0.25 }, "\(fractions)")
        #expect(fractions[1] <= 1.5 * fractions[0])
    }

    @Test("PMRM_2 preset: 23 regular scenarios, dampened tails, two skews")
    func pmrmPresetShape() throws {
        let unit = try #require(try RiskPresets.load("derive-pmrm2").riskUnits["ETH"])
        #expect(unit.scenarios.filter { $0.kind == .regular }.count == 23)
        #expect(unit.scenarios.filter { $0.kind == .skew }.count == 2)
        #expect(unit.scenarios.filter { $0.kind == .tail }.count == 6)
    }

    @Test("Account and market survive a JSON and a binary round trip")
    func roundTrip() throws {
        let (market, catalog) = SyntheticBook.market(strikesPerExpiry: 3)
        var data = Margin_V1_MarketData()
        data.instruments = catalog.byName.values.sorted { $0.name < $1.name }.map(\.proto)
        data.markets = [market.proto]
        for format in SchemaCoding.Format.allCases {
            let bytes = try SchemaCoding.encode(data, format: format)
            let decoded = try SchemaCoding.decode(Margin_V1_MarketData.self, from: bytes, format: format)
            let (markets, decodedCatalog) = try MarketState.from(proto: decoded)
            #expect(markets["BTC"] == market)
            #expect(decodedCatalog.byName == catalog.byName)
        }
        let account = SyntheticBook.accounts(count: 1, positions: 4, catalog: catalog, seed: 1)[0]
        let json = try SchemaCoding.encode(account.proto, format: .json)
        #expect(try Account(proto: SchemaCoding.decode(Margin_V1_AccountState.self, from: json, format: .json)) == account)
    }

    @Test("Malformed, unknown-field and invalid messages are refused with a reason")
    func refusals() throws {
        #expect(throws: MarginError.self) { try SchemaCoding.decode(Margin_V1_AccountState.self, from: Data("{".utf8), format: .json) }
        #expect(throws: MarginError.self) {
            try SchemaCoding.decode(Margin_V1_AccountState.self, from: Data(#"{"acount_id": "x"}"#.utf8), format: .json)
        }
        #expect(throws: MarginError.self) { try SchemaCoding.decode(Margin_V1_AccountState.self, from: Data([0xFF, 0xFF, 0xFF]), format: .protobuf) }
        var snapshot = Margin_V1_MarketSnapshot()
        snapshot.underlying = "BTC"
        snapshot.indexPrice = -1
        #expect(throws: MarginError.self) { try UnderlyingMarket(proto: snapshot) }
        var option = Margin_V1_Instrument()
        option.name = "X"
        option.underlying = "BTC"
        option.kind = .option
        option.strike = 100
        option.expiryMs = 1
        #expect(throws: MarginError.self) { try Instrument(proto: option) } // no right
    }
}
