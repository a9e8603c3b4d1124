/// Temporary market impact of closing `X` contracts over `T` days in a market trading `V`
/// contracts a day, as a cost per contract: `σ·impact(X / (V·T))`, with `σ` the daily standard
/// deviation of one contract's value (valuation units).
///
/// - `almgren`: `σ·η·(X/(V·T))^β` — Almgren, Thum, Hauptmann & Li (2005), "Direct Estimation of
///   Equity Market Impact", *Risk* 18(7): temporary impact `J = η·σ·|X/(V·T)|^β` with the fitted
///   η = 0.142 and β = 0.6 (their permanent-impact half, `γ·σ·(X/V)·(Θ/V)^δ / 2`, is not charged).
/// - `squareRoot`: `Y·σ·√(X/(V·T))` — the square-root law (Tóth et al. 2011, "Anomalous price
///   impact and the critical nature of liquidity in financial markets", *Phys. Rev. X* 1; Bouchaud,
///   Bonart, Donier & Gould 2018, *Trades, Quotes and Prices*, ch. 12: `Y` of order 1); default
///   Y = 1.
public enum ImpactModel: Sendable, Hashable {
    case almgren(eta: Double, beta: Double)
    case squareRoot(y: Double)

    /// Almgren et al. (2005)'s fitted temporary-impact parameters.
    public static let almgrenDefault = ImpactModel.almgren(eta: 0.142, beta: 0.6)
    /// The square-root law with Y = 1.
    public static let squareRootDefault = ImpactModel.squareRoot(y: 1)

    /// Impact per contract (valuation units) of closing `quantity` contracts over `horizonDays`
    /// in a market trading `dailyVolume` contracts a day, for a contract whose value has daily
    /// standard deviation `dailyVolatility` (valuation units). 0 when any input is 0.
    @inlinable
    public func unitCost(quantity: Double, dailyVolume: Double, dailyVolatility: Double, horizonDays: Double) -> Double {
        guard quantity > 0, dailyVolume > 0, horizonDays > 0, dailyVolatility > 0 else { return 0 }
        let participation = quantity / (dailyVolume * horizonDays)
        switch self {
        case .almgren(let eta, let beta): return dailyVolatility * eta * CMath.pow(participation, beta)
        case .squareRoot(let y): return dailyVolatility * y * participation.squareRoot()
        }
    }

    /// `almgren` or `square_root`.
    public var name: String {
        switch self {
        case .almgren: return "almgren"
        case .squareRoot: return "square_root"
        }
    }
}

/// How much it costs to close a position from the order book: walk the displayed levels on the
/// closing side (stub quotes beyond `stubBandSigmas` excluded), and beyond that depth pay the last
/// walked level's distance from the reference price plus the temporary impact (``ImpactModel``). An instrument without any book on the
/// closing side pays `noBookHalfSpread` daily standard deviations of its value per contract (at
/// least one tick) plus the impact when its daily volume is known. Selling never costs more than
/// the reference price per contract (a price cannot fall below 0). Shared by the liquidity margin add-on and the
/// liquidation planner, so that both price a close-out the same way.
public struct LiquidityCostModel: Sendable, Hashable {
    public var impact: ImpactModel
    /// Days over which a close-out is assumed to be worked (`T` of the impact model); default 1.
    public var horizonDays: Double
    /// Half spread of an instrument with no book on the closing side, in daily standard deviations
    /// of one contract's value (σ of ``InstrumentLiquidity/dailyVolatility``); default 1 — a
    /// stated choice, deliberately wide: a day's standard move is ≈ 4 % of a BTC perpetual's
    /// notional and, for a one-month at-the-money BTC option, about a fifth of its value, twice the
    /// median quoted half spread (10 % of the mark) of the bundled Deribit chain (2020-05-14).
    public var noBookHalfSpread: Double
    /// Annualised volatility used for `σ` when the market has no smile to read one from; default 0.8.
    public var fallbackVolatility: Double
    /// Levels farther from the mid than this many daily standard deviations of the contract's value
    /// are stub quotes and not walked (the best level always is); default 3 — a stated choice: the
    /// bundled chain's ladders end in placeholder orders such as an ask of 5 BTC for a 0.094 BTC put,
    /// which no liquidator would lift before the book requotes.
    public var stubBandSigmas: Double

    public init(impact: ImpactModel = .almgrenDefault, horizonDays: Double = 1, noBookHalfSpread: Double = 1,
                fallbackVolatility: Double = 0.8, stubBandSigmas: Double = 3) {
        self.impact = impact
        self.horizonDays = horizonDays
        self.noBookHalfSpread = noBookHalfSpread
        self.fallbackVolatility = fallbackVolatility
        self.stubBandSigmas = stubBandSigmas
    }

    /// Almgren et al. (2005) impact over one day, a no-book half spread of one daily σ, 80 % fallback
    /// volatility, stubs beyond 3 σ.
    public static let standard = LiquidityCostModel()

    public func validate(field: String) throws(MarginError) {
        switch impact {
        case .almgren(let eta, let beta):
            guard eta.isFinite, eta >= 0 else { throw .invalidInput(field: "\(field).eta", reason: "must be finite and ≥ 0") }
            guard beta.isFinite, beta > 0, beta <= 1 else { throw .invalidInput(field: "\(field).beta", reason: "must lie in (0, 1]") }
        case .squareRoot(let y):
            guard y.isFinite, y >= 0 else { throw .invalidInput(field: "\(field).square_root_y", reason: "must be finite and ≥ 0") }
        }
        _ = try horizonDays.requirePositive("\(field).horizon_days")
        _ = try noBookHalfSpread.requirePositive("\(field).no_book_half_spread")
        _ = try fallbackVolatility.requirePositive("\(field).fallback_volatility")
        _ = try stubBandSigmas.requirePositive("\(field).stub_band_sigmas")
    }
}
