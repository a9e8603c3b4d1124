import Foundation
import MarginTesting
import Testing
@testable import MarginCore

@Suite("Liquidity and concentration add-ons")
struct LiquidityAddOnTests {
    @Test("Off unless the parameters enable them: no charge, no lines")
    func offByDefault() throws {
        let (parameters, catalog, markets) = try LiquidityWorld.world()
        for account in LiquidityWorld.accounts(catalog, count: 5) {
            let result = try LiquidityWorld.margin(account, parameters, catalog, markets)
            #expect(LiquidityWorld.charge(result, "liquidity") == nil && LiquidityWorld.charge(result, "concentration") == nil)
            #expect(result.riskUnits.allSatisfy { $0.liquidityAddOns.isEmpty })
        }
    }

    @Test("The liquidity add-on is each position's book walk; MM takes its fraction; summary and explanation agree")
    func liquidityIsTheWalk() throws {
        let (plain, catalog, markets) = try LiquidityWorld.world()
        let parameters = LiquidityWorld.enabled(plain)
        let calculator = MarginCalculator(parameters: parameters)
        let book = try calculator.riskBook(for: "BTC", catalog: catalog, markets: markets, asOfMs: markets["BTC"]!.timestampMs)
        var charged = 0
        for account in LiquidityWorld.accounts(catalog) {
            let result = try LiquidityWorld.margin(account, parameters, catalog, markets)
            let without = try LiquidityWorld.margin(account, plain, catalog, markets)
            var expected = 0.0
            for position in account.positions {
                let terms = try InstrumentLiquidity(instrument: catalog[position.instrument]!, market: markets["BTC"]!, riskBook: book,
                                                    valuationPrice: 1, nowMs: book.asOfMs, fallbackVolatility: 0.8)
                expected += LiquidityCostModel.standard.closeCost(abs(position.quantity), side: .closing(quantity: position.quantity), terms: terms).total
            }
            let liquidity = try #require(LiquidityWorld.charge(result, "liquidity"))
            #expect(abs(liquidity.initial - expected) <= 1e-9 * expected)
            #expect(abs(liquidity.maintenance - 0.5 * liquidity.initial) <= 1e-12 * expected)
            let concentration = LiquidityWorld.charge(result, "concentration")
            let addOns = liquidity.initial + (concentration?.initial ?? 0)
            #expect(abs(result.initialRequirement - without.initialRequirement - addOns) <= 1e-6 * max(1, addOns))
            #expect(abs(result.maintenanceRequirement - without.maintenanceRequirement - 0.5 * addOns) <= 1e-6 * max(1, addOns))
            let lines = result.riskUnits.flatMap(\.liquidityAddOns)
            #expect(lines.count == account.positions.count)
            #expect(abs(lines.reduce(0) { $0 + $1.liquidityInitial } - liquidity.initial) <= 1e-9 * expected)
            #expect(abs(lines.reduce(0) { $0 + $1.concentrationInitial } - (concentration?.initial ?? 0)) <= 1e-9 * max(1, addOns))
            if concentration != nil { charged += 1 }
            let exposure = try AccountExposure(account: account, catalog: catalog, books: ["BTC": book], parameters: parameters)
            let summary = try calculator.summary(exposure, books: ["BTC": book], markets: markets)
            #expect(abs(summary.initialRequirement - result.initialRequirement) <= 1e-9 * result.initialRequirement)
            #expect(abs(summary.maintenanceRequirement - result.maintenanceRequirement) <= 1e-9 * result.maintenanceRequirement)
        }
        #expect(charged > 0, "some synthetic positions exceed the concentration threshold")
    }

    @Test("Concentration known answers on a perpetual: Drift premium 4,000; dYdX ramp 45,000 and 6,750")
    func concentrationKnownAnswers() throws {
        // One scenario losing 10 %: a position's standalone loss is 10 % of its notional (r₀ = 0.1).
        func result(_ quantity: Double, _ shape: ConcentrationAddOnRule.Shape) throws -> (ContingencyCharge?, LiquidityAddOn) {
            let unit = RiskUnitParameters(scenarios: [Scenario(spotShock: 0.9, volatilityShock: .none)],
                                          volatilityShock: VolatilityShockRule(rangeUp: 0, rangeDown: 0, shortTermPower: 0, longTermPower: 0),
                                          maintenanceFactor: 1, initialFactor: 1,
                                          concentrationAddOn: ConcentrationAddOnRule(openInterestFraction: 0.1, volumeFraction: nil, shape: shape))
            let parameters = RiskParameters(id: "c", version: 1, valuationAsset: "USD", riskUnits: ["X": unit])
            let catalog = InstrumentCatalog([Instrument(name: "X-PERP", underlying: "X", kind: .perpetual)])
            let market = UnderlyingMarket(underlying: "X", timestampMs: 1, indexPrice: 100, perpetualMark: 100,
                                          orderBooks: ["X-PERP": OrderBook(bidPrice: 0, bidSize: 0, askPrice: 0, askSize: 0, openInterest: 1_000)])
            let account = Account(id: "a", balances: ["USD": 1e9], positions: [Position(instrument: "X-PERP", quantity: quantity, averageEntryPrice: 100)])
            let explained = try MarginCalculator(parameters: parameters).margin(account: account, catalog: catalog, markets: MarketState([market]), asOfMs: 1)
            return (LiquidityWorld.charge(explained, "concentration"), try #require(explained.riskUnits.first?.liquidityAddOns.first))
        }
        // 500 held, threshold 100: Drift r = max(0.1, 0.08 + 0.005 × √400) = 0.18 on notional 50,000.
        let (drift, line) = try result(500, .sizePremium(imfFactor: 0.005))
        #expect(abs((drift?.initial ?? 0) - 4_000) < 1e-9 && abs((drift?.maintenance ?? 0) - 2_000) < 1e-9)
        #expect(line.concentrationThreshold == 100 && abs(line.baseRate - 0.1) < 1e-15 && abs(line.concentratedRate - 0.18) < 1e-15)
        #expect(line.closeCost == nil && line.liquidityInitial == 0) // the liquidity rule is off
        // dYdX ramp to 2× the threshold: 500 ≥ 200 is fully collateralised, 150 is half way (r = 0.55).
        #expect(abs((try result(500, .openInterestRamp(upperMultiple: 2)).0?.initial ?? 0) - 45_000) < 1e-9)
        #expect(abs((try result(150, .openInterestRamp(upperMultiple: 2)).0?.initial ?? 0) - 6_750) < 1e-9)
        // At or below the threshold, nothing.
        #expect(try result(100, .sizePremium(imfFactor: 0.005)).0 == nil)
    }

    @Test("Properties: add-ons grow with size, never fall when depth or open interest shrinks")
    func properties() throws {
        let (plain, catalog, markets) = try LiquidityWorld.world()
        let thin = try LiquidityWorld.world(depthScale: 0.3)
        let concentrated = try LiquidityWorld.world(openInterestScale: 0.4)
        for shape in [ConcentrationAddOnRule.Shape.sizePremium(imfFactor: 0.05), .openInterestRamp(upperMultiple: 2)] {
            let parameters = LiquidityWorld.enabled(plain, shape: shape)
            for account in LiquidityWorld.accounts(catalog, count: 20) {
                let base = try LiquidityWorld.margin(account, parameters, catalog, markets)
                func total(_ r: MarginResult, _ name: String) -> Double { LiquidityWorld.charge(r, name)?.initial ?? 0 }
                var previous = (total(base, "liquidity"), total(base, "concentration"))
                for k in [1.5, 2.0, 4.0, 10.0] {
                    var bigger = account
                    for index in bigger.positions.indices { bigger.positions[index].quantity *= k }
                    let result = try LiquidityWorld.margin(bigger, parameters, catalog, markets)
                    let now = (total(result, "liquidity"), total(result, "concentration"))
                    // A long option's concentration add-on never exceeds its value less its own loss.
                    let riskBook = try MarginCalculator(parameters: parameters).riskBook(for: "BTC", catalog: catalog, markets: markets,
                                                                                        asOfMs: markets["BTC"]!.timestampMs)
                    for line in result.riskUnits.flatMap(\.liquidityAddOns) where line.quantity > 0 {
                        guard let slot = riskBook.slot(of: line.instrument) else { continue }
                        #expect(line.concentrationInitial <= line.quantity * riskBook.currentValue(slot: slot) - line.standaloneLoss + 1e-6)
                    }
                    #expect(now.0 >= previous.0 * (1 - 1e-12) && now.0 > 0)
                    #expect(now.1 >= previous.1 * (1 - 1e-12) - 1e-9)
                    previous = now
                }
                let shallow = try LiquidityWorld.margin(account, parameters, thin.catalog, thin.markets)
                #expect(total(shallow, "liquidity") >= total(base, "liquidity") * (1 - 1e-12))
                let crowded = try LiquidityWorld.margin(account, parameters, concentrated.catalog, concentrated.markets)
                #expect(total(crowded, "concentration") >= total(base, "concentration") * (1 - 1e-12) - 1e-9)
            }
        }
    }

    @Test("Netting across expiries: a hedged future/perpetual pair pays for its net only when allowed")
    func netting() throws {
        let expiry: Int64 = 1_000 + 30 * 86_400_000
        let catalog = InstrumentCatalog([Instrument(name: "X-PERP", underlying: "X", kind: .perpetual),
                                         Instrument(name: "X-FUT", underlying: "X", kind: .future(expiryMs: expiry))])
        let book = OrderBook(bids: [PriceLevel(price: 99.9, size: 5), PriceLevel(price: 99, size: 50)],
                             asks: [PriceLevel(price: 100.1, size: 5), PriceLevel(price: 101, size: 50)], volume24h: 1_000)
        let market = UnderlyingMarket(underlying: "X", timestampMs: 1_000, indexPrice: 100,
                                      expiries: [ExpiryMarket(expiryMs: expiry, forward: 100, smile: SVIParameters(a: 0.04, b: 0.1, rho: 0, m: 0, sigma: 0.1))],
                                      perpetualMark: 100, orderBooks: ["X-PERP": book, "X-FUT": book])
        let unit = RiskUnitParameters(scenarios: [Scenario(spotShock: 0.9, volatilityShock: .none)],
                                      volatilityShock: VolatilityShockRule(rangeUp: 0, rangeDown: 0, shortTermPower: 0, longTermPower: 0),
                                      maintenanceFactor: 1, initialFactor: 1)
        func liquidity(_ netting: Bool, future: Double) throws -> (Double, [LiquidityAddOn]) {
            var u = unit
            u.liquidityAddOn = LiquidityAddOnRule(maintenanceFraction: 0, netDeltaOneAcrossExpiries: netting)
            let parameters = RiskParameters(id: "n", version: 1, valuationAsset: "USD", riskUnits: ["X": u])
            let account = Account(id: "a", balances: ["USD": 1e6], positions: [
                Position(instrument: "X-PERP", quantity: -10, averageEntryPrice: 100), Position(instrument: "X-FUT", quantity: future, averageEntryPrice: 100)])
            let result = try MarginCalculator(parameters: parameters).margin(account: account, catalog: catalog, markets: MarketState([market]), asOfMs: 1_000)
            return (LiquidityWorld.charge(result, "liquidity")?.initial ?? 0, result.riskUnits[0].liquidityAddOns)
        }
        // Without netting both legs walk 5 at 0.1 and 5 at 1: 5.5 each.
        #expect(abs(try liquidity(false, future: 10).0 - 11) < 1e-9)
        let (hedged, lines) = try liquidity(true, future: 10)
        #expect(hedged == 0 && lines.contains { $0.nettedInto != nil })
        // A net of 4 long pays 4 × 0.1 on one book.
        #expect(abs(try liquidity(true, future: 14).0 - 0.4) < 1e-9)
    }
}
