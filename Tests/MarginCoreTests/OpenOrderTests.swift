import Testing
@testable import MarginCore
import MarginTesting

/// Open orders in initial margin: how a fill changes the account, the worse side, MMP quotes apart,
/// maintenance untouched, and the pre-trade question.
@Suite("Open orders in initial margin")
struct OpenOrderTests {
    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * max(1, abs(a), abs(b)) }

    static func world() -> (MarginCalculator, InstrumentCatalog, MarketState) {
        var (market, catalog) = SyntheticBook.market(underlying: "BTC", index: 60_000, strikesPerExpiry: 6)
        market.perpetualMark = 60_000
        catalog.insert(Instrument(name: "BTC-INVERSE-PERP", underlying: "BTC", kind: .perpetual, settlement: .inverse, contractSize: 10))
        catalog.insert(Instrument(name: "BTC", underlying: "BTC", kind: .spot))
        return (MarginCalculator(parameters: SyntheticBook.parameters()), catalog,
                MarketState([market, UnderlyingMarket(underlying: "USDC", timestampMs: market.timestampMs, indexPrice: 1)]))
    }

    @Test("Fills: option premium paid from cash; linear entry averaged; inverse entry averaged by coins; closing realises")
    func filling() throws {
        let (_, catalog, _) = Self.world()
        let option = catalog.options(on: "BTC")[0]
        let account = Account(id: "f", balances: ["USDC": 10_000], positions: [
            Position(instrument: "BTC-PERPETUAL", quantity: 2, averageEntryPrice: 50_000),
            Position(instrument: "BTC-INVERSE-PERP", quantity: 100, averageEntryPrice: 40_000),
        ])
        func fill(_ order: OpenOrder) throws -> Account {
            try account.filling([(order, order.quantity)], catalog: catalog, valuationAsset: "USDC")
        }
        // Buying 3 options at 1,000 pays 3,000.
        let bought = try fill(OpenOrder(instrument: option.name, side: .buy, quantity: 3, limitPrice: 1_000))
        #expect(bought.balances["USDC"] == 7_000 && bought.positions.last?.quantity == 3 && bought.openOrders.isEmpty)
        // Adding 2 perpetuals at 60,000 to 2 at 50,000: 4 at 55,000.
        let added = try fill(OpenOrder(instrument: "BTC-PERPETUAL", side: .buy, quantity: 2, limitPrice: 60_000))
        #expect(added.positions[0].quantity == 4 && Self.close(added.positions[0].averageEntryPrice, 55_000))
        // Selling 3 of 2: closes 2 at 60,000 (+20,000 realised), opens 1 short at 60,000.
        let flipped = try fill(OpenOrder(instrument: "BTC-PERPETUAL", side: .sell, quantity: 3, limitPrice: 60_000))
        #expect(flipped.positions[0].quantity == -1 && flipped.positions[0].averageEntryPrice == 60_000)
        #expect(Self.close(flipped.balances["USDC"]!, 30_000))
        // Inverse: 100 contracts × 10 USD at 40,000 (0.025 BTC) + 100 at 50,000 (0.02 BTC) = 2,000 USD over 0.045 BTC.
        let inverse = try fill(OpenOrder(instrument: "BTC-INVERSE-PERP", side: .buy, quantity: 100, limitPrice: 50_000))
        #expect(Self.close(inverse.positions[1].averageEntryPrice, 200 / (100.0 / 40_000 + 100.0 / 50_000)))
        // Closing 50 contracts at 50,000 realises 500 USD × (1/40,000 − 1/50,000) BTC.
        let closed = try fill(OpenOrder(instrument: "BTC-INVERSE-PERP", side: .sell, quantity: 50, limitPrice: 50_000))
        #expect(Self.close(closed.balances["BTC"]!, 500 * (1 / 40_000.0 - 1 / 50_000.0)) && closed.positions[1].quantity == 50)
    }

    @Test("IM adds the worse side's margin; MM does not move; MMP quotes are reserved apart, up to their quote size")
    func worseSide() throws {
        let (calculator, catalog, markets) = Self.world()
        let asOf = markets["BTC"]!.timestampMs
        let base = Account(id: "o", balances: ["USDC": 100_000], positions: [Position(instrument: "BTC-PERPETUAL", quantity: 1, averageEntryPrice: 60_000)])
        let plain = try calculator.margin(account: base, catalog: catalog, markets: markets, asOfMs: asOf)
        var withOrders = base
        // Selling 1 at the mark would flatten the account (no cost); buying 2 at the mark adds risk.
        withOrders.openOrders = [OpenOrder(id: "s", instrument: "BTC-PERPETUAL", side: .sell, quantity: 1, limitPrice: 60_000),
                                 OpenOrder(id: "b", instrument: "BTC-PERPETUAL", side: .buy, quantity: 2, limitPrice: 60_000)]
        let result = try calculator.margin(account: withOrders, catalog: catalog, markets: markets, asOfMs: asOf)
        #expect(result.maintenanceRequirement == plain.maintenanceRequirement)
        let charge = try #require(result.accountContingencies.first { $0.name == "open_orders_margin" })
        #expect(charge.maintenance == 0 && charge.detail.contains("worse side buy"))
        var filled = base
        filled.positions[0].quantity = 3
        let three = try calculator.margin(account: filled, catalog: catalog, markets: markets, asOfMs: asOf)
        #expect(Self.close(charge.initial, three.initialRequirement - plain.initialRequirement))
        #expect(Self.close(result.initialRequirement, plain.initialRequirement + charge.initial))
        // An MMP quote of 10 with a quote size of 4 reserves what 4 would take, in its own line.
        var quoted = base
        quoted.openOrders = [OpenOrder(id: "q", instrument: "BTC-PERPETUAL", side: .buy, quantity: 10, limitPrice: 60_000, mmpQuoteSize: 4)]
        let mmp = try calculator.margin(account: quoted, catalog: catalog, markets: markets, asOfMs: asOf)
        filled.positions[0].quantity = 5
        let five = try calculator.margin(account: filled, catalog: catalog, markets: markets, asOfMs: asOf)
        let reserve = try #require(mmp.accountContingencies.first { $0.name == "mmp_margin" })
        #expect(Self.close(reserve.initial, five.initialRequirement - plain.initialRequirement))
        #expect(!mmp.accountContingencies.contains { $0.name == "open_orders_margin" })
    }

    @Test("Paying above the mark costs initial equity; the pre-trade check says whether the order fits")
    func preTrade() throws {
        let (calculator, catalog, markets) = Self.world()
        let asOf = markets["BTC"]!.timestampMs
        let account = Account(id: "p", balances: ["USDC": 20_000])
        let small = OpenOrder(id: "1", instrument: "BTC-PERPETUAL", side: .buy, quantity: 1, limitPrice: 60_000)
        let check = try calculator.preTrade(account: account, order: small, catalog: catalog, markets: markets, asOfMs: asOf)
        #expect(check.fits && check.orderInitialMargin > 0)
        #expect(check.before.initialRequirement == 0)
        let large = OpenOrder(id: "2", instrument: "BTC-PERPETUAL", side: .buy, quantity: 10, limitPrice: 60_000)
        #expect(try !calculator.preTrade(account: account, order: large, catalog: catalog, markets: markets, asOfMs: asOf).fits)
        // A buy 1,000 above the mark: the requirement grows by the risk plus the 1,000 paid over the mark.
        let rich = OpenOrder(id: "3", instrument: "BTC-PERPETUAL", side: .buy, quantity: 1, limitPrice: 61_000)
        let richCheck = try calculator.preTrade(account: account, order: rich, catalog: catalog, markets: markets, asOfMs: asOf)
        #expect(Self.close(richCheck.orderInitialMargin, check.orderInitialMargin + 1_000))
    }

    @Test("Malformed orders are refused naming the field")
    func refusals() throws {
        let (calculator, catalog, markets) = Self.world()
        let asOf = markets["BTC"]!.timestampMs
        for (order, field) in [
            (OpenOrder(instrument: "BTC-PERPETUAL", side: .buy, quantity: 0, limitPrice: 1), "open_orders[0].quantity"),
            (OpenOrder(instrument: "BTC-PERPETUAL", side: .buy, quantity: .nan, limitPrice: 1), "open_orders[0].quantity"),
            (OpenOrder(instrument: "BTC-PERPETUAL", side: .buy, quantity: 1, limitPrice: -5), "open_orders[0].limit_price"),
            (OpenOrder(instrument: "BTC-PERPETUAL", side: .buy, quantity: 1, limitPrice: 1, mmpQuoteSize: .infinity), "open_orders[0].mmp_quote_size"),
            (OpenOrder(instrument: "BTC", side: .buy, quantity: 1, limitPrice: 1), "open_orders[0].instrument"),
        ] {
            let account = Account(id: "x", balances: ["USDC": 1], openOrders: [order])
            #expect {
                _ = try calculator.margin(account: account, catalog: catalog, markets: markets, asOfMs: asOf)
            } throws: { error in
                guard case MarginError.invalidInput(let name, _) = error else { return false }
                return name.hasSuffix(field)
            }
        }
        let unknown = Account(id: "x", openOrders: [OpenOrder(instrument: "NOPE", side: .sell, quantity: 1, limitPrice: 1)])
        #expect(throws: MarginError.unknownInstrument("NOPE")) {
            _ = try calculator.margin(account: unknown, catalog: catalog, markets: markets, asOfMs: asOf)
        }
    }
}
