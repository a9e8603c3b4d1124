/// The conditional-variance model that filters returns for the historical simulation: it gives
/// the forecast `σ²_d` each return is devolatilised by and today's `σ²_T` it is revolatilised to.
///
/// - `ewma`: RiskMetrics (``EWMAVariance``), λ from the settings;
/// - `asymmetric_ewma`: EWMA with a leverage term (``AsymmetricEWMA``);
/// - `gjr_garch`: GJR-GARCH(1,1) with Student-t innovations by maximum likelihood (``GJRGarch``);
/// - `har`: HAR on daily squared returns by least squares (``HARVariance``).
/// Alexander & Dakos (2023, "Assessing the accuracy of exponentially weighted moving average models
/// for Value-at-Risk and Expected Shortfall of crypto portfolios", Quantitative Finance 23(3)) find
/// EWMA-class models as good as GARCH for crypto only when they capture the asymmetric response and
/// heavy tails; `backtest --vol-models` compares them out of sample on the data at hand.
public enum VolatilityModel: String, Sendable, Hashable, CaseIterable {
    case ewma
    case asymmetricEWMA = "asymmetric_ewma"
    case gjrGarch = "gjr_garch"
    case har

    /// Parses a model name (`ewma`, `asymmetric_ewma`, `gjr_garch`, `har`).
    public init(label: String) throws(MarginError) {
        guard let model = VolatilityModel(rawValue: String(label.lowercased().map { $0 == "-" ? "_" : $0 })) else {
            throw .invalidInput(field: "volatility_model", reason: "unknown model `\(label)` (\(Self.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self = model
    }

    /// Fits the model on the last `window` of `returns` (all when 0). A model whose fit fails falls
    /// back to EWMA at `lambda`, and the fit says so (``VolatilityFit/note``).
    public func fit(_ returns: [Double], lambda: Double, seedCount: Int, window: Int = 0) throws(MarginError) -> VolatilityFit {
        let sample = window > 0 && returns.count > window ? Array(returns.suffix(window)) : returns
        let ewma = try EWMAVariance(lambda: lambda, seedCount: seedCount)
        switch self {
        case .ewma:
            return VolatilityFit(model: self, estimate: .ewma(ewma), seedCount: seedCount, note: nil)
        case .asymmetricEWMA:
            return VolatilityFit(model: self, estimate: .asymmetricEWMA(AsymmetricEWMA.fit(sample, lambda: lambda, seedCount: seedCount)),
                                 seedCount: seedCount, note: nil)
        case .gjrGarch:
            guard let fitted = GJRGarch.fit(sample, seedCount: seedCount) else {
                return VolatilityFit(model: self, estimate: .ewma(ewma), seedCount: seedCount,
                                     note: "GJR-GARCH fit did not converge on \(sample.count) returns: EWMA λ = \(lambda) used")
            }
            return VolatilityFit(model: self, estimate: .gjrGarch(fitted.parameters), seedCount: seedCount, note: nil)
        case .har:
            guard let fitted = HARVariance.fit(sample) else {
                return VolatilityFit(model: self, estimate: .ewma(ewma), seedCount: seedCount,
                                     note: "HAR fit failed on \(sample.count) returns: EWMA λ = \(lambda) used")
            }
            return VolatilityFit(model: self, estimate: .har(fitted), seedCount: seedCount, note: nil)
        }
    }
}

/// A fitted ``VolatilityModel``: its estimated parameters, and the forecasts they give.
public struct VolatilityFit: Sendable, Hashable {
    public enum Estimate: Sendable, Hashable {
        case ewma(EWMAVariance)
        case asymmetricEWMA(AsymmetricEWMA)
        case gjrGarch(GJRGarch)
        case har(HARVariance)
    }

    /// The model asked for (the estimate may be EWMA when its fit failed: see `note`).
    public var model: VolatilityModel
    public var estimate: Estimate
    public var seedCount: Int
    /// Why the estimate is not the model asked for, if it is not.
    public var note: String?

    /// Variance forecasts of `returns` (daily units): element `i` for `returns[i]`, made before it;
    /// the last for the next, unseen day.
    public func forecasts(_ returns: [Double]) -> [Double] {
        switch estimate {
        case .ewma(let m): return m.forecasts(returns)
        case .asymmetricEWMA(let m): return m.forecasts(returns, seedCount: seedCount)
        case .gjrGarch(let m): return m.forecasts(returns, seedCount: seedCount)
        case .har(let m): return m.forecasts(returns, seedCount: seedCount)
        }
    }

    /// The estimate in a few words, for the provenance.
    public var summary: String {
        switch estimate {
        case .ewma(let m): return "ewma λ=\(m.lambda)"
        case .asymmetricEWMA(let m): return "asymmetric_ewma λ=\(m.lambda) θ=\(formatShort(m.theta))"
        case .gjrGarch(let m):
            return "gjr_garch ω=\(m.omega) α=\(formatShort(m.alpha)) γ=\(formatShort(m.gamma)) β=\(formatShort(m.beta)) ν=\(formatShort(m.nu))"
        case .har(let m):
            return "har b0=\(m.intercept) bd=\(formatShort(m.daily)) bw=\(formatShort(m.weekly)) bm=\(formatShort(m.monthly))"
        }
    }
}
