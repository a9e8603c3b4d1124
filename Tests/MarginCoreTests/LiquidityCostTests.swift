import Testing
@testable import MarginCore

@Suite("Liquidity cost: book walk, impact, Drift and dYdX vectors")
struct LiquidityCostTests {
    /// A linear perpetual on `X` (contract = 1 unit, quote = valuation units), index 100, no smile:
    /// σ comes from the model's fallback volatility.
    static func terms(book: OrderBook?, fallbackVolatility: Double = 0.8) throws -> InstrumentLiquidity {
        let instrument = Instrument(name: "X-PERP", underlying: "X", kind: .perpetual, lotSize: 0.001, tickSize: 0.01)
        let market = UnderlyingMarket(underlying: "X", timestampMs: 1, indexPrice: 100, perpetualMark: 100,
                                      orderBooks: book.map { ["X-PERP": $0] } ?? [:])
        return try InstrumentLiquidity(instrument: instrument, market: market, riskBook: nil, valuationPrice: 1, nowMs: 1,
                                       fallbackVolatility: fallbackVolatility)
    }

    /// Bids 99.5 × 10, 99 × 20, 98 × 30; asks 100.5 × 10, 101 × 20, 102 × 30 (mid 100).
    static let ladder = OrderBook(
        bids: [PriceLevel(price: 99.5, size: 10), PriceLevel(price: 99, size: 20), PriceLevel(price: 98, size: 30)],
        asks: [PriceLevel(price: 100.5, size: 10), PriceLevel(price: 101, size: 20), PriceLevel(price: 102, size: 30)])

    @Test("Walking the book: 25 sold = 10 × 0.5 + 15 × 1 = 20; 60 bought = 10 × 0.5 + 20 × 1 + 30 × 2 = 85")
    func bookWalkKnownAnswers() throws {
        let model = LiquidityCostModel.standard
        let contract = try Self.terms(book: Self.ladder)
        let sell = model.closeCost(25, side: .bid, terms: contract)
        #expect(abs(sell.total - 20) < 1e-12 && sell.levelsUsed == 2 && sell.beyondDepth == 0 && !sell.noBook)
        #expect(abs(sell.worstPrice(quoteToValuation: contract.quoteToValuation) - 99) < 1e-12)
        let buy = model.closeCost(60, side: .ask, terms: contract)
        #expect(abs(buy.total - 85) < 1e-12 && buy.levelsUsed == 3 && buy.displayedDepth == 60)
        #expect(abs(buy.worstPrice(quoteToValuation: contract.quoteToValuation) - 102) < 1e-12)
    }

    @Test("A position smaller than the first level pays only the half spread")
    func firstLevelPaysHalfSpread() throws {
        let contract = try Self.terms(book: Self.ladder)
        for quantity in [0.001, 1, 7.5, 10] {
            let cost = LiquidityCostModel.standard.closeCost(quantity, side: .bid, terms: contract)
            #expect(abs(cost.total - quantity * 0.5) < 1e-12)
            #expect(cost.impactPerContract == 0)
        }
    }

    @Test("Impact formula: σ·η·(X/(V·T))^β with η 0.142, β 0.6; square-root law Y·σ·√(X/V)")
    func impactKnownAnswers() {
        // σ = 2, X/V = 0.1: 2 × 0.142 × 0.1^0.6 = 0.284 × 0.251188643150958 = 0.071337574654872.
        let almgren = ImpactModel.almgrenDefault.unitCost(quantity: 10, dailyVolume: 100, dailyVolatility: 2, horizonDays: 1)
        #expect(abs(almgren - 0.071_337_574_654_872) < 1e-15)
        // Over two days the participation halves: 0.284 × 0.05^0.6.
        let twoDays = ImpactModel.almgrenDefault.unitCost(quantity: 10, dailyVolume: 100, dailyVolatility: 2, horizonDays: 2)
        #expect(abs(twoDays - 0.284 * 0.165_722_700_866_999) < 1e-14)
        // Y = 1, σ = 2, X/V = 0.25: 2 × 0.5 = 1.
        #expect(ImpactModel.squareRootDefault.unitCost(quantity: 25, dailyVolume: 100, dailyVolatility: 2, horizonDays: 1) == 1)
        #expect(ImpactModel.almgrenDefault.unitCost(quantity: 10, dailyVolume: 0, dailyVolatility: 2, horizonDays: 1) == 0)
    }

    @Test("Beyond the displayed depth: last level's distance plus the impact of the whole quantity")
    func beyondDepth() throws {
        var book = Self.ladder
        book.volume24h = 1_000
        let contract = try Self.terms(book: book)
        let model = LiquidityCostModel.standard
        let cost = model.closeCost(100, side: .bid, terms: contract)
        // σ_V = 100 × 0.8 / √365 per contract and day; impact of 100 of a 1,000 daily volume.
        let sigma = 100 * 0.8 / 365.0.squareRoot()
        let impact = sigma * 0.142 * CMath.pow(0.1, 0.6)
        #expect(abs(contract.dailyVolatility - sigma) < 1e-12)
        #expect(abs(cost.impactPerContract - impact) < 1e-12)
        #expect(abs(cost.total - (10 * 0.5 + 20 * 1 + 30 * 2 + 40 * (2 + impact))) < 1e-9)
        #expect(cost.beyondDepth == 40 && cost.volumeUsed == 1_000)
        // Without a 24 h volume the displayed depth (60) scales the impact.
        let noVolume = model.closeCost(100, side: .bid, terms: try Self.terms(book: Self.ladder))
        #expect(abs(noVolume.impactPerContract - sigma * 0.142 * CMath.pow(100.0 / 60, 0.6)) < 1e-12)
    }

    @Test("Stub quotes beyond 3 σ of the mid are not walked; the impact prices what lies past the band")
    func stubBand() throws {
        var book = OrderBook(bids: [PriceLevel(price: 99.5, size: 10), PriceLevel(price: 50, size: 1_000)],
                             asks: [PriceLevel(price: 100.5, size: 10), PriceLevel(price: 500, size: 5)])
        book.volume24h = 1_000
        let contract = try Self.terms(book: book)
        let sigma = 100 * 0.8 / 365.0.squareRoot() // 3 σ ≈ 12.6 from the mid
        let impact = sigma * 0.142 * CMath.pow(0.1, 0.6)
        for side in [BookSide.bid, .ask] {
            let cost = LiquidityCostModel.standard.closeCost(100, side: side, terms: contract)
            #expect(cost.levelsUsed == 1 && cost.displayedDepth == 10 && cost.beyondDepth == 90)
            #expect(abs(cost.total - (10 * 0.5 + 90 * (0.5 + impact))) < 1e-9)
        }
        // A wider band walks the far levels too.
        let wide = LiquidityCostModel(stubBandSigmas: 200).closeCost(100, side: .bid, terms: contract)
        #expect(wide.levelsUsed == 2 && abs(wide.total - (10 * 0.5 + 90 * 50)) < 1e-9)
    }

    @Test("No book: one daily σ of the contract's value per contract (at least a tick), never zero")
    func noBook() throws {
        let contract = try Self.terms(book: nil)
        let cost = LiquidityCostModel.standard.closeCost(3, side: .ask, terms: contract)
        let sigma = 100 * 0.8 / 365.0.squareRoot()
        #expect(cost.noBook && abs(cost.total - 3 * sigma) < 1e-12)
        // A worthless contract still pays a tick.
        let tiny = try Self.terms(book: nil, fallbackVolatility: 1e-12)
        #expect(abs(LiquidityCostModel.standard.closeCost(2, side: .ask, terms: tiny).total - 2 * 0.01) < 1e-15)
        // With a known volume, the impact comes on top.
        let statsOnly = try Self.terms(book: OrderBook(bidPrice: 0, bidSize: 0, askPrice: 0, askSize: 0, volume24h: 30))
        let withImpact = LiquidityCostModel.standard.closeCost(3, side: .ask, terms: statsOnly)
        #expect(withImpact.noBook && abs(withImpact.total - 3 * (sigma + sigma * 0.142 * CMath.pow(0.1, 0.6))) < 1e-12)
    }

    @Test("Drift size premium: liability weight 1.1, imf 0.01, 1,000 units → 1.1962 (Drift's fixed point too)")
    func driftVector() {
        let weight = ConcentrationFormula.sizePremiumWeight(size: 1_000, imfFactor: 0.01, baseWeight: 1.1)
        #expect((weight * 10_000).rounded(.down) == 11_962)
        #expect(abs(weight - 1.1962) < 5e-5)
        // Drift's integer arithmetic: size in 1e9, imf in 1e6, weight in 1e4 (SPOT_WEIGHT_PRECISION).
        func isqrt(_ n: UInt64) -> UInt64 {
            var x = UInt64(Double(n).squareRoot())
            while x * x > n { x -= 1 }
            while (x + 1) * (x + 1) <= n { x += 1 }
            return x
        }
        let size: UInt64 = 1_000 * 1_000_000_000, imf: UInt64 = 10_000, liability: UInt64 = 11_000, precision: UInt64 = 10_000
        let premium = (liability - liability / 5) + isqrt(size * 10 + 1) * imf / (100_000 * 1_000_000 / precision)
        #expect(max(liability, premium) == 11_962)
        // Below the point where the premium exceeds the weight, the weight itself.
        #expect(ConcentrationFormula.sizePremiumWeight(size: 1, imfFactor: 0.01, baseWeight: 1.1) == 1.1)
    }

    @Test("dYdX open-interest ramp: base 20 %, caps 1e12 and 2e12, open interest 1.5e12 → 60 %")
    func dydxVector() {
        #expect(abs(ConcentrationFormula.openInterestScaledFraction(base: 0.2, openInterest: 1.5e12, lowerCap: 1e12, upperCap: 2e12) - 0.6) < 1e-15)
        #expect(ConcentrationFormula.openInterestScaledFraction(base: 0.2, openInterest: 0.5e12, lowerCap: 1e12, upperCap: 2e12) == 0.2)
        #expect(ConcentrationFormula.openInterestScaledFraction(base: 0.2, openInterest: 2e12, lowerCap: 1e12, upperCap: 2e12) == 1)
        #expect(ConcentrationFormula.openInterestScaledFraction(base: 0.2, openInterest: 5e12, lowerCap: 1e12, upperCap: 0) == 0.2)
    }

    @Test("Properties over random books: cost grows with size, never falls when depth shrinks, first level pays the half spread")
    func properties() throws {
        var generator = SeededGenerator(seed: 15)
        let models = [LiquidityCostModel.standard, LiquidityCostModel(impact: .squareRootDefault, horizonDays: 0.5)]
        for trial in 0..<200 {
            let levels = Int.random(in: 1...6, using: &generator)
            var bid = 100 - Double.random(in: 0.01...1, using: &generator)
            var ask = 100 + Double.random(in: 0.01...1, using: &generator)
            var bids: [PriceLevel] = [], asks: [PriceLevel] = []
            for _ in 0..<levels {
                bids.append(PriceLevel(price: bid, size: Double.random(in: 0.5...50, using: &generator)))
                asks.append(PriceLevel(price: ask, size: Double.random(in: 0.5...50, using: &generator)))
                bid -= Double.random(in: 0.01...2, using: &generator)
                ask += Double.random(in: 0.01...2, using: &generator)
            }
            let volume: Double? = trial % 3 == 0 ? nil : Double.random(in: 1...1_000, using: &generator)
            let book = OrderBook(bids: bids, asks: asks, volume24h: volume)
            try book.validate(field: "book")
            let contract = try Self.terms(book: book)
            let model = models[trial % 2]
            for side in [BookSide.bid, .ask] {
                let first = book.level(side, 0)
                let small = Double.random(in: 0...first.size, using: &generator)
                let halfSpread = abs(first.price - contract.referencePrice)
                #expect(abs(model.closeCost(small, side: side, terms: contract).total - small * halfSpread) < 1e-9)
                var previous = 0.0
                for step in 1...40 {
                    let quantity = Double(step) * 5
                    let cost = model.closeCost(quantity, side: side, terms: contract)
                    #expect(cost.total >= previous - 1e-12, "cost falls with size at \(quantity)")
                    previous = cost.total
                    // Shrinking every displayed size never makes the same close-out cheaper.
                    let scale = Double.random(in: 0.05...1, using: &generator)
                    let thinner = OrderBook(bids: bids.map { PriceLevel(price: $0.price, size: $0.size * scale) },
                                            asks: asks.map { PriceLevel(price: $0.price, size: $0.size * scale) }, volume24h: volume)
                    let shrunk = model.closeCost(quantity, side: side, terms: try Self.terms(book: thinner))
                    #expect(shrunk.total >= cost.total - 1e-9 * max(1, cost.total), "cheaper with less depth at \(quantity)")
                }
            }
        }
    }

    @Test("Ladder validation: sorted levels, top equals the first level, finite statistics")
    func validation() {
        var book = Self.ladder
        #expect(throws: Never.self) { try book.validate(field: "b") }
        book.bids.swapAt(0, 1)
        #expect(throws: MarginError.self) { try book.validate(field: "b") }
        book = Self.ladder
        book.askPrice = 100.4
        #expect(throws: MarginError.self) { try book.validate(field: "b") }
        book = Self.ladder
        book.openInterest = -1
        #expect(throws: MarginError.self) { try book.validate(field: "b") }
        #expect(Self.ladder.depth(.bid, within: 1.1, of: 100) == 30)
        #expect(Self.ladder.depth(.ask, within: 0.1, of: 100) == 10) // the best level always counts
    }
}
