import MarginCore
import MarginDemo
import MarginEngineCore

/// What every policy of a run shares: the demo's market (the 2020-05-14 Deribit BTC chain, its
/// ladders and the delta-one books), the parameter set, the generated accounts and the insurance
/// fund. Market time stays at the chain's snapshot: the scenario moves prices, volatility and
/// depth, not the calendar (no option decays or expires during a run).
public struct CascadeWorld: Sendable {
    public let market: DemoMarket
    public let catalog: InstrumentCatalog
    public let parameters: RiskParameters
    public let liquidation: LiquidationSettings
    public let accounts: [Account]
    public let seed: UInt64
    /// The insurance fund at the start (valuation units).
    public let insuranceFund: Double
    /// The instrument whose book the index follows: all net flow is routed through it.
    public static let referenceInstrument = DemoMarket.perpetual
    static let underlying = "BTC"

    /// `count` accounts from the demo's generator with `seed`; `insuranceFund` nil: 1 % of the
    /// accounts' opening equity (a stated choice).
    public init(accounts count: Int, seed: UInt64, parameters: RiskParameters, liquidation: LiquidationSettings = LiquidationSettings(),
                insuranceFund: Double? = nil) throws {
        guard count >= 1, count <= 1_000_000 else { throw MarginError.invalidInput(field: "accounts", reason: "must lie in [1, 1000000]") }
        let market = try DemoMarket()
        let accounts = try AccountGenerator(seed: seed).generate(count: count, market: market, calculator: MarginCalculator(parameters: parameters))
        try self.init(market: market, accounts: accounts, seed: seed, parameters: parameters, liquidation: liquidation,
                      insuranceFund: insuranceFund)
    }

    /// These accounts on the demo's market.
    init(market: DemoMarket, accounts: [Account], seed: UInt64, parameters: RiskParameters, liquidation: LiquidationSettings,
         insuranceFund: Double?) throws {
        if let insuranceFund, !(insuranceFund.isFinite && insuranceFund >= 0 && insuranceFund <= 1e15) {
            throw MarginError.invalidInput(field: "insurance_fund", reason: "must lie in [0, 1e15]")
        }
        try parameters.validate()
        try liquidation.validate()
        self.market = market
        self.parameters = parameters
        self.liquidation = liquidation
        self.seed = seed
        self.accounts = accounts
        // The options some account holds (no run opens a position), every future, perpetual and
        // spot asset: the risk book revalues only what can matter.
        let held = Set(accounts.flatMap { $0.positions.map(\.instrument) })
        catalog = InstrumentCatalog(market.instruments.filter { $0.kind.isDeltaOne || held.contains($0.name) })
        for account in accounts { try account.validate(instruments: catalog) }
        if let insuranceFund {
            self.insuranceFund = insuranceFund
        } else {
            let calculator = MarginCalculator(parameters: parameters)
            let markets = MarketState([market.snapshot(at: market.startMs, move: MarketMove()), market.stablecoin(at: market.startMs)])
            let book = try calculator.riskBook(for: Self.underlying, catalog: catalog, markets: markets, asOfMs: market.startMs)
            var equity = 0.0
            for account in accounts {
                let exposure = try AccountExposure(account: account, catalog: catalog, books: [Self.underlying: book], parameters: parameters)
                equity += max(0, try calculator.summary(exposure, books: [Self.underlying: book], markets: markets).equity)
            }
            self.insuranceFund = 0.01 * equity
        }
    }

    /// The exogenous market at `seconds` of `scenario` (depth scaled, nothing taken), or, with
    /// `depletion`, the realised one: the index displaced by the net liquidation flow, the books
    /// less what liquidations took. Also returns the displacement (a fraction) and the undepleted
    /// books the fills walk from.
    func marketState(scenario: CascadeScenario, seconds: Double, depletion: BookDepletion?) throws(MarginError)
        -> (markets: MarketState, displacement: Double, baseBooks: [String: OrderBook], depthMultiplier: Double) {
        let (move, depth) = scenario.state(atSeconds: seconds)
        return try marketState(move: move, depth: depth, depletion: depletion)
    }

    /// The market moved by `move` with `depth` of the displayed sizes, realised with `depletion`.
    /// The futures' and perpetuals' ladders stay where the exogenous market puts them, less what
    /// was taken: their own flow is what displaced the index, so they are not re-centred on it as
    /// well (the option ladders follow their model prices, which the index moves).
    func marketState(move: MarketMove, depth: Double, depletion: BookDepletion?) throws(MarginError)
        -> (markets: MarketState, displacement: Double, baseBooks: [String: OrderBook], depthMultiplier: Double) {
        var snapshot = market.snapshot(at: market.startMs, move: move)
        let exogenousBooks = snapshot.orderBooks
        var displacement = 0.0
        if let depletion, depletion.netSold != 0 {
            displacement = depletion.indexDisplacement(reference: try referenceTerms(snapshot, depthMultiplier: depth), model: costModel)
            var displaced = move
            displaced.indexFactor *= 1 + displacement
            snapshot = market.snapshot(at: market.startMs, move: displaced)
        }
        var base: [String: OrderBook] = [:]
        for (name, displacedBook) in snapshot.orderBooks {
            let book = catalog[name]?.kind.isDeltaOne == true ? exogenousBooks[name] ?? displacedBook : displacedBook
            let scaled = BookDepletion().displayed(book, instrument: name, multiplier: depth)
            base[name] = scaled
            snapshot.orderBooks[name] = depletion?.displayed(book, instrument: name, multiplier: depth) ?? scaled
        }
        return (MarketState([snapshot, market.stablecoin(at: market.startMs)]), displacement, base, depth)
    }

    /// The cost model that prices close-outs: the parameter set's, else the liquidation settings'.
    var costModel: LiquidityCostModel {
        parameters.riskUnit(for: Self.underlying)?.liquidityCost ?? LiquidationCoordinator(settings: liquidation).policy.costModel
    }

    /// The reference underlying's risk book under `markets`, valued as of the run's start (the
    /// calendar is frozen), reusing `held`'s columns where its market matches.
    func riskBook(_ calculator: MarginCalculator, markets: MarketState, reusing held: RiskBook?) throws(MarginError) -> RiskBook {
        try calculator.riskBook(for: Self.underlying, catalog: catalog, markets: markets, asOfMs: market.startMs, reusing: held)
    }

    /// `instrument`'s liquidity terms on `snapshot` as of the run's start, priced by ``costModel``.
    func terms(_ instrument: Instrument, on snapshot: UnderlyingMarket, book: RiskBook?, valuationPrice: Double) throws(MarginError)
        -> InstrumentLiquidity {
        try InstrumentLiquidity(instrument: instrument, market: snapshot, riskBook: book, valuationPrice: valuationPrice, nowMs: market.startMs,
                                fallbackVolatility: costModel.fallbackVolatility)
    }

    /// The reference perpetual's terms in `snapshot`, its book scaled by the depth multiplier.
    func referenceTerms(_ snapshot: UnderlyingMarket, depthMultiplier: Double) throws(MarginError) -> InstrumentLiquidity {
        guard let instrument = catalog[Self.referenceInstrument] else { throw .unknownInstrument(Self.referenceInstrument) }
        var scaled = snapshot
        if let book = snapshot.orderBooks[instrument.name] {
            scaled.orderBooks[instrument.name] = BookDepletion().displayed(book, instrument: instrument.name, multiplier: depthMultiplier)
        }
        return try terms(instrument, on: scaled, book: nil, valuationPrice: market.stablecoin(at: market.startMs).indexPrice)
    }
}
