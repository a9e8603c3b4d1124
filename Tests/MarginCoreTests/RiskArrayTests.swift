import Foundation
import Testing
@testable import MarginCore
import MarginTesting

/// Independent direct revaluation: every position repriced with the scalar Black-76 under every
/// scenario — the reference the risk-array path must reproduce.
enum DirectRevaluation {
    static func scenarioPnLs(account: Account, catalog: InstrumentCatalog, market: UnderlyingMarket,
                             unit: RiskUnitParameters, asOfMs: Int64) throws -> [Double] {
        let surface = VolatilitySurface(market: market, evaluation: unit.smile)
        return try unit.scenarios.map { scenario in
            var pnl = 0.0
            for position in account.positions {
                let instrument = try #require(catalog[position.instrument])
                switch instrument.kind {
                case .option(let expiryMs, let strike, let right):
                    let expiry = try #require(market.expiry(at: expiryMs))
                    let t = VolatilitySurface.yearFraction(from: asOfMs, to: expiryMs)
                    let sigma = try surface.markVolatility(for: instrument, nowMs: asOfMs)
                    let seconds = Double(expiryMs - asOfMs) / 1000
                    let (up, down) = unit.volatilityShock.multipliers(secondsToExpiry: seconds)
                    let shockedVol: Double
                    switch scenario.volatilityShock {
                    case .none: shockedVol = sigma
                    case .up: shockedVol = max(unit.volatilityShock.minimumVolatilityUp, sigma * up)
                    case .down: shockedVol = sigma * down
                    case .skewLinear, .skewAbsolute: shockedVol = sigma
                    }
                    let forward = expiry.forward * scenario.spotShock
                    func value(_ f: Double, _ vol: Double) -> Double {
                        let inputs = Black76Inputs(forward: f, strike: strike, timeToExpiry: t, volatility: vol, rate: max(expiry.rate, 0),
                                                   right: right, settlement: instrument.settlement)
                        let price = Black76.price(inputs)
                        // Inverse: coins, converted at the (shocked) index.
                        return instrument.settlement == .inverse ? price * market.indexPrice * (f / expiry.forward) : price
                    }
                    pnl += position.quantity * instrument.contractSize
                        * (value(forward, shockedVol) - value(expiry.forward, sigma)) * scenario.dampening
                case .perpetual:
                    pnl += position.quantity * instrument.contractSize * (market.perpetualMark ?? market.indexPrice)
                        * (scenario.spotShock - 1) * scenario.dampening
                case .future, .spot:
                    Issue.record("not generated")
                }
            }
            return pnl
        }
    }
}

@Suite("Risk arrays and portfolio margin")
struct RiskArrayTests {
    let parameters = SyntheticBook.parameters()
    let setup = SyntheticBook.market(strikesPerExpiry: 12)

    var unit: RiskUnitParameters { parameters.riskUnits["BTC"]! }
    var markets: MarketState { MarketState([setup.market]) }
    var asOf: Int64 { setup.market.timestampMs }

    func book(_ catalog: InstrumentCatalog? = nil) throws -> RiskBook {
        try MarginCalculator(parameters: parameters).riskBook(for: "BTC", catalog: catalog ?? setup.catalog, markets: markets, asOfMs: asOf)
    }

    func margin(_ account: Account) throws -> MarginResult {
        try MarginCalculator(parameters: parameters).margin(account: account, catalog: setup.catalog, markets: markets, asOfMs: asOf)
    }

    @Test("Risk-array values equal scalar Black-76 revaluation (linear and inverse)")
    func arraysMatchScalarPricing() throws {
        var instruments = Array(setup.catalog.byName.values)
        // Inverse twins of every option.
        for option in setup.catalog.options(on: "BTC") {
            var twin = option
            twin.name += "-INV"
            twin.settlement = .inverse
            instruments.append(twin)
        }
        let catalog = InstrumentCatalog(instruments)
        let book = try book(catalog)
        let surface = VolatilitySurface(market: setup.market)
        for instrument in book.instruments {
            guard case .option(let expiryMs, let strike, let right) = instrument.kind else { continue }
            let slot = try #require(book.slot(of: instrument.name))
            let expiry = try #require(setup.market.expiry(at: expiryMs))
            let sigma = try surface.markVolatility(for: instrument, nowMs: asOf)
            let t = VolatilitySurface.yearFraction(from: asOf, to: expiryMs)
            let (up, down) = unit.volatilityShock.multipliers(secondsToExpiry: Double(expiryMs - asOf) / 1000)
            for (index, scenario) in book.scenarios.enumerated() {
                let vol: Double = switch scenario.volatilityShock {
                case .up: max(unit.volatilityShock.minimumVolatilityUp, sigma * up)
                case .down: sigma * down
                default: sigma
                }
                let f = expiry.forward * scenario.spotShock
                var price = Black76.price(Black76Inputs(forward: f, strike: strike, timeToExpiry: t, volatility: vol, rate: expiry.rate,
                                                        right: right, settlement: instrument.settlement))
                if instrument.settlement == .inverse { price *= setup.market.indexPrice * scenario.spotShock }
                let value = book.scenarioValue(slot: slot, scenario: index)
                #expect(abs(value - price) <= 1e-9 * max(1, abs(price)), "\(instrument.name) scenario \(index): \(value) vs \(price)")
            }
        }
    }

    @Test("Risk-array margin equals direct revaluation margin to 1e-9")
    func riskArrayMarginEqualsDirectRevaluation() throws {
        let accounts = SyntheticBook.accounts(count: 40, positions: 10, catalog: setup.catalog, seed: 3)
        for var account in accounts {
            account.positions.append(Position(instrument: "BTC-PERPETUAL", quantity: 1.5, averageEntryPrice: 59_000))
            let result = try margin(account)
            let direct = try DirectRevaluation.scenarioPnLs(account: account, catalog: setup.catalog, market: setup.market, unit: unit, asOfMs: asOf)
            let engine = try #require(result.riskUnits.first).scenarioPnLs
            for (a, b) in zip(engine, direct) {
                #expect(abs(a - b) <= 1e-9 * max(1, abs(b)))
            }
            let worstDirect = max(0, -(direct.min() ?? 0))
            #expect(abs(result.riskUnits[0].worstLoss - worstDirect) <= 1e-9 * max(1, worstDirect))
            let expectedMM = unit.maintenanceFactor * worstDirect + result.riskUnits[0].contingencies.reduce(0) { $0 + $1.maintenance }
            #expect(abs(result.maintenanceRequirement - expectedMM) <= 1e-9 * max(1, expectedMM))
        }
    }

    @Test("Scaling every position by k scales scenario PnL by k")
    func scaling() throws {
        let account = SyntheticBook.accounts(count: 1, positions: 10, catalog: setup.catalog, seed: 5)[0]
        let base = try margin(account).riskUnits[0].scenarioPnLs
        for k in [0.5, 2.0, 7.25, -3.0] {
            var scaled = account
            scaled.positions = account.positions.map { var p = $0; p.quantity *= k; return p }
            let pnl = try margin(scaled).riskUnits[0].scenarioPnLs
            for (a, b) in zip(pnl, base) {
                #expect(abs(a - k * b) <= 1e-9 * max(1, abs(k * b)))
            }
        }
    }

    @Test("A book plus its exact negation has zero scenario loss")
    func negation() throws {
        for account in SyntheticBook.accounts(count: 10, positions: 10, catalog: setup.catalog, seed: 9) {
            // Net out through two accounts' worth of quantities on one account: q + (−q) per instrument.
            let result = try margin(account)
            let negated = Account(id: "neg", positions: account.positions.map { var p = $0; p.quantity = -p.quantity; return p })
            let negatedResult = try margin(negated)
            for (a, b) in zip(result.riskUnits[0].scenarioPnLs, negatedResult.riskUnits[0].scenarioPnLs) {
                #expect(abs(a + b) <= 1e-9 * max(1, abs(a)))
            }
            let flat = Account(id: "flat", positions: account.positions.map { var p = $0; p.quantity = 0; return p })
            #expect(try margin(flat).maintenanceRequirement == 0)
        }
    }

    @Test("The worst loss of two books together never exceeds the sum of their worst losses")
    func subadditivity() throws {
        let accounts = SyntheticBook.accounts(count: 40, positions: 10, catalog: setup.catalog, seed: 13)
        for pair in stride(from: 0, to: accounts.count, by: 2) {
            let a = accounts[pair], b = accounts[pair + 1]
            var merged: [String: Double] = [:]
            for p in a.positions + b.positions { merged[p.instrument, default: 0] += p.quantity }
            let combined = Account(id: "ab", positions: merged.sorted { $0.key < $1.key }.map { Position(instrument: $0.key, quantity: $0.value) })
            let lossA = try margin(a).riskUnits[0].worstLoss
            let lossB = try margin(b).riskUnits[0].worstLoss
            let lossAB = try margin(combined).riskUnits.first?.worstLoss ?? 0
            #expect(lossAB <= lossA + lossB + 1e-9 * (lossA + lossB))
        }
    }

    @Test("Contributions sum to the binding scenario's PnL")
    func contributionsExplainTheBindingScenario() throws {
        for account in SyntheticBook.accounts(count: 10, positions: 10, catalog: setup.catalog, seed: 17) {
            let unit = try #require(try margin(account).riskUnits.first)
            guard let binding = unit.bindingScenario else { continue }
            let total = unit.contributions.reduce(0) { $0 + $1.pnl }
            #expect(abs(total - unit.scenarioPnLs[binding]) <= 1e-9 * max(1, abs(total)))
            #expect(abs(unit.worstLoss + unit.scenarioPnLs[binding]) <= 1e-9 * max(1, unit.worstLoss))
        }
    }

    @Test("A skew scenario's spot shock moves delta-one positions but revalues options at the current forwards")
    func skewScenarioSpotShock() throws {
        var parameters = parameters
        var unit = try #require(parameters.riskUnits["BTC"])
        unit.skewShock = SkewShockRule(linearBaseCap: 0.25, linearCBase: -0.1, absoluteBaseCap: 0.2, absoluteCBase: -0.05,
                                       minKStar: 0.01, widthScale: 4, volParamStatic: 0.6, volParamScale: 0)
        unit.scenarios += [Scenario(spotShock: 1, volatilityShock: .skewLinear), Scenario(spotShock: 1.1, volatilityShock: .skewLinear)]
        parameters.riskUnits["BTC"] = unit
        let calculator = MarginCalculator(parameters: parameters)
        let book = try calculator.riskBook(for: "BTC", catalog: setup.catalog, markets: markets, asOfMs: asOf)
        let still = book.scenarios.count - 2, moved = still + 1
        var tilted = 0
        for slot in book.instruments.indices {
            #expect(book.scenarioValue(slot: slot, scenario: moved) == book.scenarioValue(slot: slot, scenario: still))
            if abs(book.scenarioValue(slot: slot, scenario: still) - book.currentValue(slot: slot)) > 1e-9 { tilted += 1 }
        }
        #expect(tilted > 0, "the linear tilt changes some option values")
        let perp = Account(id: "p", positions: [Position(instrument: "BTC-PERPETUAL", quantity: 2, averageEntryPrice: 60_000)])
        let pnls = try #require(try calculator.margin(account: perp, catalog: setup.catalog, markets: markets, asOfMs: asOf).riskUnits.first).scenarioPnLs
        let mark = setup.market.perpetualMark ?? setup.market.indexPrice
        #expect(abs(pnls[moved] - 2 * mark * 0.1) <= 1e-9 * mark)
        #expect(pnls[still] == 0)
    }

    @Test("Skew multipliers: linear tilt, absolute tilt, caps, and a zero k* as a step")
    func skewMultipliers() {
        let rule = SkewShockRule(linearBaseCap: 0.25, linearCBase: -0.1, absoluteBaseCap: 0.2, absoluteCBase: 0,
                                 minKStar: 0.01, widthScale: 4, volParamStatic: 0.6, volParamScale: 0)
        let t = 0.25 // √τ = 0.5: linear cap 0.2, absolute cap 0.2, k* = 0.5·4·0.6 = 1.2
        #expect(abs(rule.multiplier(logMoneyness: 0.6, timeToExpiry: t, absolute: false) - 1.1) < 1e-12)
        #expect(abs(rule.multiplier(logMoneyness: -0.6, timeToExpiry: t, absolute: false) - 0.9) < 1e-12)
        #expect(abs(rule.multiplier(logMoneyness: -0.6, timeToExpiry: t, absolute: true) - 1.1) < 1e-12)
        #expect(abs(rule.multiplier(logMoneyness: 5, timeToExpiry: t, absolute: false) - 1.2) < 1e-12)
        var flat = rule
        flat.minKStar = 0
        flat.widthScale = 0
        #expect(flat.multiplier(logMoneyness: 0, timeToExpiry: t, absolute: false) == 1)
        #expect(abs(flat.multiplier(logMoneyness: 0.01, timeToExpiry: t, absolute: false) - 1.2) < 1e-12)
        #expect(abs(flat.multiplier(logMoneyness: -0.01, timeToExpiry: t, absolute: false) - 0.8) < 1e-12)
    }

    @Test("Health states: healthy, below IM, liquidatable, bankrupt")
    func healthStates() throws {
        var account = Account(id: "h", positions: [Position(instrument: "BTC-PERPETUAL", quantity: -10, averageEntryPrice: 60_000)])
        let loss = try margin(account)
        let mm = loss.maintenanceRequirement, im = loss.initialRequirement
        #expect(im > mm && mm > 0)
        for (cash, state) in [(im + 1, HealthState.healthy), ((im + mm) / 2, .belowInitial), (mm / 2, .liquidatable), (-1, .bankrupt)] {
            account.balances = ["USDC": cash]
            #expect(try margin(account).health == state)
        }
    }

    @Test("Bad input is refused with the field named")
    func badInput() throws {
        let calculator = MarginCalculator(parameters: parameters)
        let unknown = Account(id: "x", positions: [Position(instrument: "NOPE", quantity: 1)])
        #expect(throws: MarginError.unknownInstrument("NOPE")) {
            try calculator.margin(account: unknown, catalog: setup.catalog, markets: markets, asOfMs: asOf)
        }
        let option = setup.catalog.options(on: "BTC")[0].name
        let held = Account(id: "x", positions: [Position(instrument: option, quantity: 1)])
        #expect(throws: MarginError.missingMarket(underlying: "BTC")) {
            try calculator.margin(account: held, catalog: setup.catalog, markets: MarketState(), asOfMs: asOf)
        }
        for bad in [Double.nan, .infinity, 0, -5] {
            var market = setup.market
            market.indexPrice = bad
            #expect(throws: MarginError.self) {
                try calculator.margin(account: held, catalog: setup.catalog, markets: MarketState([market]), asOfMs: asOf)
            }
            var forward = setup.market
            forward.expiries[0].forward = bad
            #expect(throws: MarginError.self) {
                try calculator.margin(account: held, catalog: setup.catalog, markets: MarketState([forward]), asOfMs: asOf)
            }
        }
        let nanQuantity = Account(id: "x", positions: [Position(instrument: option, quantity: .nan)])
        #expect(throws: MarginError.self) {
            try calculator.margin(account: nanQuantity, catalog: setup.catalog, markets: markets, asOfMs: asOf)
        }
    }
}
