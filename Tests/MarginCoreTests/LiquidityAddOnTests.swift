import Foundation
import MarginSchema
import Testing
@testable import MarginCore

@Suite("Liquidity and concentration add-ons")
struct LiquidityAddOnTests {
    /// The synthetic BTC market with a five-level ladder around every option's model value and the
    /// perpetual, 24 h volumes and open interest; sizes multiplied by `depthScale`.
    static func world(depthScale: Double = 1, openInterestScale: Double = 1)
        throws -> (parameters: RiskParameters, catalog: InstrumentCatalog, markets: MarketState) {
        let (bare, catalog) = SyntheticBook.market(expiries: 3, strikesPerExpiry: 6)
        let parameters = SyntheticBook.parameters()
        let plain = try MarginCalculator(parameters: parameters).riskBook(for: "BTC", catalog: catalog, markets: MarketState([bare]),
                                                                           asOfMs: bare.timestampMs)
        var market = bare
        func ladder(_ value: Double, spread: Double, size: Double, volume: Double, openInterest: Double) -> TopOfBook {
            let bids = (0..<5).map { PriceLevel(price: value * (1 - spread * Double($0 + 1)), size: size * Double($0 + 1) * depthScale) }
            let asks = (0..<5).map { PriceLevel(price: value * (1 + spread * Double($0 + 1)), size: size * Double($0 + 1) * depthScale) }
            return TopOfBook(bids: bids, asks: asks, volume24h: volume, openInterest: openInterest * openInterestScale)
        }
        for (slot, instrument) in plain.instruments.enumerated() where plain.currentValue(slot: slot) > 1 {
            market.books[instrument.name] = ladder(plain.currentValue(slot: slot), spread: 0.02, size: 2, volume: 15, openInterest: 80)
        }
        market.books["BTC-PERPETUAL"] = ladder(60_000, spread: 0.0002, size: 20, volume: 5_000, openInterest: 2_000)
        return (parameters, catalog, MarketState([market]))
    }

    static func enabled(_ parameters: RiskParameters, shape: ConcentrationAddOnRule.Shape = .sizePremium(imfFactor: 0.05),
                        netting: Bool = false) -> RiskParameters {
        var p = parameters
        for key in p.riskUnits.keys {
            p.riskUnits[key]!.liquidityCost = .standard
            p.riskUnits[key]!.liquidityAddOn = LiquidityAddOnRule(maintenanceFraction: 0.5, netDeltaOneAcrossExpiries: netting)
            p.riskUnits[key]!.concentrationAddOn = ConcentrationAddOnRule(shape: shape)
        }
        return p
    }

    static func margin(_ account: Account, _ parameters: RiskParameters, _ catalog: InstrumentCatalog, _ markets: MarketState) throws -> MarginResult {
        try MarginCalculator(parameters: parameters).margin(account: account, catalog: catalog, markets: markets, asOfMs: markets["BTC"]?.timestampMs ?? 1)
    }

    static func charge(_ result: MarginResult, _ name: String) -> ContingencyCharge? {
        result.riskUnits.flatMap(\.contingencies).first { $0.name == name }
    }

    static func accounts(_ catalog: InstrumentCatalog, count: Int = 30) -> [Account] {
        SyntheticBook.accounts(count: count, positions: 5, catalog: catalog, seed: 77).enumerated().map { index, account in
            var account = account
            account.positions.append(Position(instrument: "BTC-PERPETUAL", quantity: Double(index % 7 - 3) * 4, averageEntryPrice: 60_000))
            account.positions.removeAll { $0.quantity == 0 }
            return account
        }
    }

    @Test("Off unless the parameters enable them: no charge, no lines; deribit-like enables both, derive-pmrm2 neither")
    func offByDefault() throws {
        let (parameters, catalog, markets) = try Self.world()
        for account in Self.accounts(catalog, count: 5) {
            let result = try Self.margin(account, parameters, catalog, markets)
            #expect(Self.charge(result, "liquidity") == nil && Self.charge(result, "concentration") == nil)
            #expect(result.riskUnits.allSatisfy { $0.liquidityAddOns.isEmpty })
        }
        for unit in try RiskPresets.load("derive-pmrm2").riskUnits.values {
            #expect(unit.liquidityAddOn == nil && unit.concentrationAddOn == nil && unit.liquidityCost == nil)
        }
        for unit in try RiskPresets.load("deribit-like").riskUnits.values {
            #expect(unit.liquidityAddOn?.maintenanceFraction == 0.5 && unit.liquidityCost == .standard)
            #expect(unit.concentrationAddOn?.openInterestFraction == 0.1 && unit.concentrationAddOn?.volumeFraction == 0.5)
        }
    }

    @Test("The liquidity add-on is each position's book walk; MM takes its fraction; summary and explanation agree")
    func liquidityIsTheWalk() throws {
        let (plain, catalog, markets) = try Self.world()
        let parameters = Self.enabled(plain)
        let calculator = MarginCalculator(parameters: parameters)
        let book = try calculator.riskBook(for: "BTC", catalog: catalog, markets: markets, asOfMs: markets["BTC"]!.timestampMs)
        var charged = 0
        for account in Self.accounts(catalog) {
            let result = try Self.margin(account, parameters, catalog, markets)
            let without = try Self.margin(account, plain, catalog, markets)
            var expected = 0.0
            for position in account.positions {
                let terms = try InstrumentLiquidity(instrument: catalog[position.instrument]!, market: markets["BTC"]!, riskBook: book,
                                                    valuationPrice: 1, nowMs: book.asOfMs, fallbackVolatility: 0.8)
                expected += LiquidityCostModel.standard.closeCost(abs(position.quantity), side: .closing(quantity: position.quantity), terms: terms).total
            }
            let liquidity = try #require(Self.charge(result, "liquidity"))
            #expect(abs(liquidity.initial - expected) <= 1e-9 * expected)
            #expect(abs(liquidity.maintenance - 0.5 * liquidity.initial) <= 1e-12 * expected)
            let concentration = Self.charge(result, "concentration")
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
                                          books: ["X-PERP": TopOfBook(bidPrice: 0, bidSize: 0, askPrice: 0, askSize: 0, openInterest: 1_000)])
            let account = Account(id: "a", balances: ["USD": 1e9], positions: [Position(instrument: "X-PERP", quantity: quantity, averageEntryPrice: 100)])
            let explained = try MarginCalculator(parameters: parameters).margin(account: account, catalog: catalog, markets: MarketState([market]), asOfMs: 1)
            return (Self.charge(explained, "concentration"), try #require(explained.riskUnits.first?.liquidityAddOns.first))
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
        let (plain, catalog, markets) = try Self.world()
        let thin = try Self.world(depthScale: 0.3)
        let concentrated = try Self.world(openInterestScale: 0.4)
        for shape in [ConcentrationAddOnRule.Shape.sizePremium(imfFactor: 0.05), .openInterestRamp(upperMultiple: 2)] {
            let parameters = Self.enabled(plain, shape: shape)
            for account in Self.accounts(catalog, count: 20) {
                let base = try Self.margin(account, parameters, catalog, markets)
                func total(_ r: MarginResult, _ name: String) -> Double { Self.charge(r, name)?.initial ?? 0 }
                var previous = (total(base, "liquidity"), total(base, "concentration"))
                for k in [1.5, 2.0, 4.0, 10.0] {
                    var bigger = account
                    for index in bigger.positions.indices { bigger.positions[index].quantity *= k }
                    let result = try Self.margin(bigger, parameters, catalog, markets)
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
                let shallow = try Self.margin(account, parameters, thin.catalog, thin.markets)
                #expect(total(shallow, "liquidity") >= total(base, "liquidity") * (1 - 1e-12))
                let crowded = try Self.margin(account, parameters, concentrated.catalog, concentrated.markets)
                #expect(total(crowded, "concentration") >= total(base, "concentration") * (1 - 1e-12) - 1e-9)
            }
        }
    }

    @Test("Netting across expiries: a hedged future/perpetual pair pays for its net only when allowed")
    func netting() throws {
        let expiry: Int64 = 1_000 + 30 * 86_400_000
        let catalog = InstrumentCatalog([Instrument(name: "X-PERP", underlying: "X", kind: .perpetual),
                                         Instrument(name: "X-FUT", underlying: "X", kind: .future(expiryMs: expiry))])
        let book = TopOfBook(bids: [PriceLevel(price: 99.9, size: 5), PriceLevel(price: 99, size: 50)],
                             asks: [PriceLevel(price: 100.1, size: 5), PriceLevel(price: 101, size: 50)], volume24h: 1_000)
        let market = UnderlyingMarket(underlying: "X", timestampMs: 1_000, indexPrice: 100,
                                      expiries: [ExpiryMarket(expiryMs: expiry, forward: 100, smile: SVIParameters(a: 0.04, b: 0.1, rho: 0, m: 0, sigma: 0.1))],
                                      perpetualMark: 100, books: ["X-PERP": book, "X-FUT": book])
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
            return (Self.charge(result, "liquidity")?.initial ?? 0, result.riskUnits[0].liquidityAddOns)
        }
        // Without netting both legs walk 5 at 0.1 and 5 at 1: 5.5 each.
        #expect(abs(try liquidity(false, future: 10).0 - 11) < 1e-9)
        let (hedged, lines) = try liquidity(true, future: 10)
        #expect(hedged == 0 && lines.contains { $0.nettedInto != nil })
        // A net of 4 long pays 4 × 0.1 on one book.
        #expect(abs(try liquidity(true, future: 14).0 - 0.4) < 1e-9)
    }

    @Test("Schema: rules, ladders and statistics survive the wire; the result carries each add-on")
    func schema() throws {
        let (plain, catalog, markets) = try Self.world()
        let parameters = Self.enabled(plain, shape: .openInterestRamp(upperMultiple: 3), netting: true)
        var squareRoot = parameters
        squareRoot.riskUnits["BTC"]!.liquidityCost = LiquidityCostModel(impact: .squareRoot(y: 0.7), horizonDays: 2, noBookHalfSpread: 1.5, fallbackVolatility: 0.6)
        for p in [parameters, squareRoot] {
            let bytes = SchemaCoding.encode(p.proto, format: .json)
            #expect(try RiskParameters(proto: SchemaCoding.decode(Margin_V1_RiskParameters.self, from: bytes, format: .json)) == p)
        }
        for format in SchemaCoding.Format.allCases {
            let bytes = SchemaCoding.encode(markets["BTC"]!.proto, format: format)
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
        let decoded = try UnderlyingMarket(proto: snapshot).books["BTC-PERPETUAL"]
        #expect(decoded?.bidPrice == 59_990 && decoded?.bidSize == 3 && decoded?.volume24h == 12 && decoded?.openInterest == nil)
        wire.bidPrice = 59_000
        wire.bidSize = 1
        snapshot.books = [wire]
        #expect(throws: MarginError.self) { try UnderlyingMarket(proto: snapshot) }

        let account = Self.accounts(catalog, count: 1)[0]
        let result = try Self.margin(account, parameters, catalog, markets)
        let proto = result.proto()
        let lines = proto.riskUnits.flatMap(\.liquidityAddOns)
        #expect(lines.count == account.positions.count)
        let liquidity = try #require(proto.riskUnits.flatMap(\.contingencies).first { $0.name == "liquidity" })
        #expect(abs(lines.reduce(0) { $0 + $1.liquidityInitial } - liquidity.initial) <= 1e-9 * liquidity.initial)
        #expect(lines.contains { $0.hasCloseCost && $0.closeCost.levelsUsed > 0 && $0.hasOpenInterest && $0.hasVolume24H })
    }
}
