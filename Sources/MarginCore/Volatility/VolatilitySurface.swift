/// How smiles are evaluated in the wings (part of a risk-parameter set).
///
/// `wingClampMultiple` bounds log-moneyness to ±multiple·√(a + b·σ) before evaluating SVI (Derive's
/// SVI does this with 4); `maxTotalVariance` caps total variance (Derive: 144). `nil` disables either.
public struct SmileEvaluation: Sendable, Hashable {
    public var wingClampMultiple: Double?
    public var maxTotalVariance: Double?

    public init(wingClampMultiple: Double? = nil, maxTotalVariance: Double? = nil) {
        self.wingClampMultiple = wingClampMultiple
        self.maxTotalVariance = maxTotalVariance
    }

    public static let unbounded = SmileEvaluation()
}

/// The implied-volatility surface of one underlying: an SVI smile per listed expiry, total variance
/// interpolated linearly in time between expiries (flat volatility outside them), and per-option
/// mark volatilities overriding the smile.
public struct VolatilitySurface: Sendable {
    public let market: UnderlyingMarket
    public let evaluation: SmileEvaluation

    public init(market: UnderlyingMarket, evaluation: SmileEvaluation = .unbounded) {
        self.market = market
        self.evaluation = evaluation
    }

    /// Years (of 365 days) from `nowMs` to `expiryMs`, never negative.
    @inlinable
    public static func yearFraction(from nowMs: Int64, to expiryMs: Int64) -> Double {
        max(0, Double(expiryMs - nowMs)) / 31_536_000_000.0
    }

    /// Implied volatility of a listed expiry's smile at `strike`.
    public func volatility(expiry: ExpiryMarket, strike: Double, nowMs: Int64) -> Double {
        let t = Self.yearFraction(from: nowMs, to: expiry.expiryMs)
        let tau = expiry.smile.tau ?? t
        guard tau > 0 else { return 0 }
        let w = totalVariance(smile: expiry.smile, forward: expiry.smile.referenceForward ?? expiry.forward, strike: strike)
        return (max(w, 0) / tau).squareRoot()
    }

    /// Total variance of `smile` at `strike`, with the configured wing clamp and cap.
    public func totalVariance(smile: SVIParameters, forward: Double, strike: Double) -> Double {
        var k = CMath.log(strike / forward)
        if let multiple = evaluation.wingClampMultiple {
            let bound = multiple * max(smile.a + smile.b * smile.sigma, 0).squareRoot()
            k = min(max(k, -bound), bound)
        }
        var w = smile.totalVariance(atLogMoneyness: k)
        if let cap = evaluation.maxTotalVariance { w = min(w, cap) }
        return w
    }

    /// The forward for any expiry: the listed one, or interpolated linearly in time between
    /// neighbours (flat outside the listed range).
    public func forward(expiryMs: Int64, nowMs: Int64) throws(MarginError) -> Double {
        if let listed = market.expiry(at: expiryMs) { return listed.forward }
        let expiries = market.expiries
        guard let first = expiries.first, let last = expiries.last else {
            if let mark = market.perpetualMark { return mark }
            return market.indexPrice
        }
        if expiryMs <= first.expiryMs {
            // Between now (index) and the first expiry.
            let total = Double(first.expiryMs - nowMs)
            guard total > 0 else { return first.forward }
            let weight = max(0, Double(expiryMs - nowMs)) / total
            return market.indexPrice + (first.forward - market.indexPrice) * weight
        }
        if expiryMs >= last.expiryMs { return last.forward }
        let upper = expiries.firstIndex { $0.expiryMs > expiryMs }!
        let lo = expiries[upper - 1], hi = expiries[upper]
        let weight = Double(expiryMs - lo.expiryMs) / Double(hi.expiryMs - lo.expiryMs)
        return lo.forward + (hi.forward - lo.forward) * weight
    }

    /// Implied volatility for any expiry and strike. Between listed expiries the total variance at
    /// the same log-moneyness is interpolated linearly in time; before the first and after the
    /// last expiry the nearest smile's volatility is used.
    public func volatility(expiryMs: Int64, strike: Double, nowMs: Int64) throws(MarginError) -> Double {
        if let listed = market.expiry(at: expiryMs) {
            return volatility(expiry: listed, strike: strike, nowMs: nowMs)
        }
        let expiries = market.expiries
        guard let first = expiries.first, let last = expiries.last else {
            throw .missingExpiry(underlying: market.underlying, expiryMs: expiryMs)
        }
        let forward = try self.forward(expiryMs: expiryMs, nowMs: nowMs)
        let k = CMath.log(strike / forward)
        func smileVolatility(_ expiry: ExpiryMarket) -> Double {
            let equivalentStrike = (expiry.smile.referenceForward ?? expiry.forward) * CMath.exp(k)
            return volatility(expiry: expiry, strike: equivalentStrike, nowMs: nowMs)
        }
        if expiryMs <= first.expiryMs { return smileVolatility(first) }
        if expiryMs >= last.expiryMs { return smileVolatility(last) }
        let upper = expiries.firstIndex { $0.expiryMs > expiryMs }!
        let lo = expiries[upper - 1], hi = expiries[upper]
        let t = Self.yearFraction(from: nowMs, to: expiryMs)
        let t1 = Self.yearFraction(from: nowMs, to: lo.expiryMs)
        let t2 = Self.yearFraction(from: nowMs, to: hi.expiryMs)
        let v1 = smileVolatility(lo), v2 = smileVolatility(hi)
        let w1 = v1 * v1 * t1, w2 = v2 * v2 * t2
        guard t > 0, t2 > t1 else { return v2 }
        let w = w1 + (w2 - w1) * (t - t1) / (t2 - t1)
        return (max(w, 0) / t).squareRoot()
    }

    /// The volatility the engine marks `instrument` at: its mark volatility if the market gives one,
    /// otherwise the surface.
    public func markVolatility(for instrument: Instrument, nowMs: Int64) throws(MarginError) -> Double {
        if let override = market.markVolatilities[instrument.name] { return override }
        guard case .option(let expiry, let strike, _) = instrument.kind else {
            throw .invalidInput(field: "instrument \(instrument.name)", reason: "not an option")
        }
        return try volatility(expiryMs: expiry, strike: strike, nowMs: nowMs)
    }
}
