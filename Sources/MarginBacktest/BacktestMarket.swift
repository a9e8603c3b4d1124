import MarginCore

/// The backtest's market on one day of the history, and the stated volatility model.
///
/// Daily closes carry no implied volatility, so options are priced — for margining and for the
/// realised loss alike — at an ATM volatility of `max(floor, multiple × σ_EWMA)` (σ_EWMA the
/// annualised RiskMetrics forecast known at that day's close), flat across strikes, forwards equal
/// to the index (rate 0), perpetuals marked at the index. The grid's volatility shocks and the FHS
/// worst-of-grid treatment apply on top of it.
public struct BacktestVolatilityModel: Sendable, Hashable {
    /// Annualised floor, e.g. 0.3.
    public var floor: Double
    /// Multiple of the EWMA realised volatility (implied volatility usually trades above realised).
    public var multiple: Double
    public var lambda: Double

    public init(floor: Double = 0.3, multiple: Double = 1.1, lambda: Double = EWMAVariance.riskMetricsLambda) {
        self.floor = floor
        self.multiple = multiple
        self.lambda = lambda
    }

    public var description: String {
        "options priced by Black-76 at ATM vol = max(\(formatPercent(floor)), \(multiple) × EWMA(λ = \(lambda)) realised vol), flat smile, forwards = index, rate 0; the same model for margin and realised loss"
    }

    /// Annualised ATM volatility per underlying (history order) per day index.
    func volatilities(_ history: JointHistory) throws(MarginError) -> [[Double]] {
        let ewma = try EWMAVariance(lambda: lambda)
        return try history.logReturns.map { (returns: [Double]) throws(MarginError) -> [Double] in
            let forecasts = ewma.forecasts(returns)
            // Day index d (its close) knows returns before it: forecasts[d] is the forecast for return d.
            return forecasts.map { max(floor, multiple * ($0 * 365).squareRoot()) }
        }
    }
}

/// One day's markets, catalog and account for a portfolio.
struct BacktestDay {
    let dayIndex: Int
    let timestampMs: Int64
    let prices: [String: Double]
    let volatilities: [String: Double]

    func contracts(_ leg: BacktestPortfolio.Leg) -> Double {
        leg.perNotional ? leg.quantity / prices[leg.instrument.underlying]! : leg.quantity
    }

    /// The instrument a leg names, listed on this day.
    func instrument(_ rolling: RollingInstrument) -> Instrument {
        switch rolling.kind {
        case .perpetual:
            return Instrument(name: rolling.name, underlying: rolling.underlying, kind: .perpetual)
        case .option(let tenor, let moneyness, let right):
            return Instrument(name: rolling.name, underlying: rolling.underlying,
                              kind: .option(expiryMs: timestampMs + Int64(tenor) * 86_400_000, strike: moneyness * prices[rolling.underlying]!, right: right))
        }
    }

    /// The portfolio struck on this day: account (perpetual entries at the index), catalog, markets.
    func book(_ portfolio: BacktestPortfolio, id: String) -> (account: Account, catalog: InstrumentCatalog, markets: MarketState, instruments: [Instrument]) {
        var instruments: [Instrument] = []
        var positions: [Position] = []
        for leg in portfolio.legs {
            let instrument = instrument(leg.instrument)
            instruments.append(instrument)
            positions.append(Position(instrument: instrument.name, quantity: contracts(leg), averageEntryPrice: prices[leg.instrument.underlying]!))
        }
        let catalog = InstrumentCatalog(Array(Set(instruments)))
        return (Account(id: id, version: 1, positions: positions), catalog, markets(for: instruments), instruments)
    }

    func markets(for instruments: [Instrument]) -> MarketState {
        var expiries: [String: Set<Int64>] = [:]
        for instrument in instruments {
            expiries[instrument.underlying, default: []].formUnion(instrument.kind.expiryMs.map { [$0] } ?? [])
        }
        return MarketState(prices.keys.sorted().map { underlying in
            let price = prices[underlying]!, vol = volatilities[underlying]!
            let listed = (expiries[underlying] ?? []).sorted().map { expiryMs in
                let tau = max(Double(expiryMs - timestampMs), 0) / (365 * 86_400_000)
                return ExpiryMarket(expiryMs: expiryMs, forward: price, smile: SVIParameters(a: vol * vol * tau, b: 0, rho: 0, m: 0, sigma: 0.1))
            }
            return UnderlyingMarket(underlying: underlying, timestampMs: timestampMs, indexPrice: price, expiries: listed, perpetualMark: price)
        })
    }

    /// Gross notional (USD) of positions on this day: Σ |contracts| × index.
    func grossNotional(_ instruments: [Instrument], quantities: [Double]) -> Double {
        zip(instruments, quantities).reduce(0) { $0 + abs($1.1) * prices[$1.0.underlying]! }
    }

    /// Value (USD) on this day of instruments struck earlier: options by Black-76 at this day's
    /// vol and remaining time (intrinsic once expired), perpetuals at the index.
    func value(of instruments: [Instrument], quantities: [Double]) -> Double {
        var total = 0.0
        for (instrument, quantity) in zip(instruments, quantities) {
            let price = prices[instrument.underlying]!
            switch instrument.kind {
            case .option(let expiryMs, let strike, let right):
                let tau = max(Double(expiryMs - timestampMs), 0) / (365 * 86_400_000)
                let inputs = Black76Inputs(forward: price, strike: strike, timeToExpiry: tau, volatility: volatilities[instrument.underlying]!, right: right)
                total += quantity * Black76.price(inputs)
            default:
                total += quantity * price
            }
        }
        return total
    }
}

func formatPercent(_ x: Double) -> String {
    let percent = (x * 1000).rounded() / 10
    return percent == percent.rounded() ? "\(Int(percent))%" : "\(percent)%"
}
