import Foundation
import MarginSchema
import MarginTesting
import Testing
@testable import MarginCore

/// The liquidity and concentration fields on the wire, and the presets that enable them.
@Suite("Liquidity fields on the wire")
struct LiquiditySchemaTests {
    @Test("Presets: deribit-like enables the liquidity and concentration add-ons, derive-pmrm2 neither")
    func presets() throws {
        for unit in try RiskPresets.load("derive-pmrm2").riskUnits.values {
            #expect(unit.liquidityAddOn == nil && unit.concentrationAddOn == nil && unit.liquidityCost == nil)
        }
        for unit in try RiskPresets.load("deribit-like").riskUnits.values {
            #expect(unit.liquidityAddOn?.maintenanceFraction == 0.5 && unit.liquidityCost == .standard)
            #expect(unit.concentrationAddOn?.openInterestFraction == 0.1 && unit.concentrationAddOn?.volumeFraction == 0.5)
        }
    }

    @Test("Schema: rules, ladders and statistics survive the wire; the result carries each add-on")
    func schema() throws {
        let (plain, catalog, markets) = try LiquidityWorld.world()
        let parameters = LiquidityWorld.enabled(plain, shape: .openInterestRamp(upperMultiple: 3), netting: true)
        var squareRoot = parameters
        squareRoot.riskUnits["BTC"]!.liquidityCost = LiquidityCostModel(impact: .squareRoot(y: 0.7), horizonDays: 2, noBookHalfSpread: 1.5, fallbackVolatility: 0.6)
        for p in [parameters, squareRoot] {
            let bytes = try SchemaCoding.encode(p.proto, format: .json)
            #expect(try RiskParameters(proto: SchemaCoding.decode(Margin_V1_RiskParameters.self, from: bytes, format: .json)) == p)
        }
        for format in SchemaCoding.Format.allCases {
            let bytes = try SchemaCoding.encode(markets["BTC"]!.proto, format: format)
            #expect(try UnderlyingMarket(proto: SchemaCoding.decode(Margin_V1_MarketSnapshot.self, from: bytes, format: format)) == markets["BTC"]!)
        }
        // A ladder alone stands for the top of book.
        var wire = Margin_V1_TopOfBook()
        wire.instrument = "BTC-PERPETUAL"
        var level = Margin_V1_PriceLevel()
        level.price = 59_990
        level.size = 3
        wire.bids = [level]
        wire.volume24H = 12
        var snapshot = markets["BTC"]!.proto
        snapshot.books = [wire]
        let decoded = try UnderlyingMarket(proto: snapshot).orderBooks["BTC-PERPETUAL"]
        #expect(decoded?.bidPrice == 59_990 && decoded?.bidSize == 3 && decoded?.volume24h == 12 && decoded?.openInterest == nil)
        wire.bidPrice = 59_000
        wire.bidSize = 1
        snapshot.books = [wire]
        #expect(throws: MarginError.self) { try UnderlyingMarket(proto: snapshot) }

        let account = LiquidityWorld.accounts(catalog, count: 1)[0]
        let result = try LiquidityWorld.margin(account, parameters, catalog, markets)
        let proto = result.proto()
        let lines = proto.riskUnits.flatMap(\.liquidityAddOns)
        #expect(lines.count == account.positions.count)
        let liquidity = try #require(proto.riskUnits.flatMap(\.contingencies).first { $0.name == "liquidity" })
        #expect(abs(lines.reduce(0) { $0 + $1.liquidityInitial } - liquidity.initial) <= 1e-9 * liquidity.initial)
        #expect(lines.contains { $0.hasCloseCost && $0.closeCost.levelsUsed > 0 && $0.hasOpenInterest && $0.hasVolume24H })
    }
}
