/// Inputs to Black-76: a European option on a forward, discounted at a continuously compounded rate.
///
/// Units: `forward` and `strike` in USD per unit of underlying; `timeToExpiry` in years of 365 days;
/// `volatility` annualised (0.8 = 80%); `rate` continuously compounded per year (0.05 = 5%).
public struct Black76Inputs: Sendable, Hashable {
    public var forward: Double
    public var strike: Double
    public var timeToExpiry: Double
    public var volatility: Double
    public var rate: Double
    public var right: OptionRight
    public var settlement: Settlement

    public init(forward: Double, strike: Double, timeToExpiry: Double, volatility: Double, rate: Double = 0,
                right: OptionRight, settlement: Settlement = .linear) {
        self.forward = forward
        self.strike = strike
        self.timeToExpiry = timeToExpiry
        self.volatility = volatility
        self.rate = rate
        self.right = right
        self.settlement = settlement
    }

    /// Refuses non-finite values, non-positive forward or strike, negative time or volatility.
    public func validate() throws(MarginError) {
        _ = try forward.requirePositive("forward")
        _ = try strike.requirePositive("strike")
        _ = try timeToExpiry.requireFinite("expiry_years")
        guard timeToExpiry >= 0 else { throw .invalidInput(field: "expiry_years", reason: "must be ≥ 0, got \(timeToExpiry)") }
        _ = try volatility.requireFinite("vol")
        guard volatility >= 0 else { throw .invalidInput(field: "vol", reason: "must be ≥ 0, got \(volatility)") }
        _ = try rate.requireFinite("rate")
    }
}

/// Price and sensitivities of one option.
///
/// Linear settlement: `price` in USD per unit of underlying; `delta` = ∂price/∂forward
/// (discounted, dimensionless); `gamma` = ∂²price/∂forward² (per USD); `vega` = ∂price/∂vol per
/// 1.00 of volatility (USD); `theta` = ∂price/∂t per year of calendar time (USD, negative for decay).
///
/// Inverse settlement: the option is worth `linear price / forward` coins, and every greek is the
/// matching derivative of that coin value: `delta` in coins per USD of forward, `gamma` in coins per
/// USD², `vega` and `theta` in coins. `coinDelta` = forward × delta is the premium-adjusted delta in
/// underlying units (for linear settlement it equals `delta`).
public struct OptionValuation: Sendable, Hashable {
    public var price: Double
    public var delta: Double
    public var gamma: Double
    public var vega: Double
    public var theta: Double
    public var coinDelta: Double
}

/// Black-76 pricing with discounting, for linear and inverse settlement. Scalar and exact to the
/// C library's `erfc`; the risk-array kernel uses a vectorised twin checked against this one.
public enum Black76 {
    /// The undiscounted, linear price for a call or put (USD per unit), and d1 / total volatility.
    @inlinable
    static func undiscounted(forward f: Double, strike k: Double, totalVolatility s: Double, right: OptionRight)
        -> (price: Double, d1: Double)
    {
        guard s > 0 else {
            // Expired or zero volatility: intrinsic value against the forward.
            let intrinsic = right == .call ? max(f - k, 0) : max(k - f, 0)
            let d1: Double = f > k ? .infinity : (f < k ? -.infinity : 0)
            return (intrinsic, d1)
        }
        let d1 = (CMath.log(f / k) + 0.5 * s * s) / s
        let d2 = d1 - s
        switch right {
        case .call:
            return (max(f * NormalDistribution.cdf(d1) - k * NormalDistribution.cdf(d2), 0), d1)
        case .put:
            return (max(k * NormalDistribution.cdf(-d2) - f * NormalDistribution.cdf(-d1), 0), d1)
        }
    }

    /// The option's price: USD per unit of underlying (linear) or coins (inverse).
    @inlinable
    public static func price(_ inputs: Black76Inputs) -> Double {
        let s = inputs.volatility * inputs.timeToExpiry.squareRoot()
        let discount = CMath.exp(-inputs.rate * inputs.timeToExpiry)
        let linear = discount * undiscounted(forward: inputs.forward, strike: inputs.strike, totalVolatility: s, right: inputs.right).price
        return inputs.settlement == .linear ? linear : linear / inputs.forward
    }

    /// Price and greeks (see ``OptionValuation`` for units).
    public static func valuation(_ inputs: Black76Inputs) -> OptionValuation {
        let f = inputs.forward, t = inputs.timeToExpiry, vol = inputs.volatility
        let sqrtT = t.squareRoot()
        let s = vol * sqrtT
        let discount = CMath.exp(-inputs.rate * t)
        let (undiscounted, d1) = undiscounted(forward: f, strike: inputs.strike, totalVolatility: s, right: inputs.right)
        let price = discount * undiscounted
        let density = s > 0 ? NormalDistribution.pdf(d1) : 0
        let nd1 = s > 0 ? NormalDistribution.cdf(d1) : (f > inputs.strike ? 1 : (f < inputs.strike ? 0 : 0.5))
        let delta = discount * (inputs.right == .call ? nd1 : nd1 - 1)
        let gamma = s > 0 ? discount * density / (f * s) : 0
        let vega = discount * f * density * sqrtT
        let theta = s > 0 ? inputs.rate * price - discount * f * density * vol / (2 * sqrtT) : inputs.rate * price

        switch inputs.settlement {
        case .linear:
            return OptionValuation(price: price, delta: delta, gamma: gamma, vega: vega, theta: theta, coinDelta: delta)
        case .inverse:
            let coinPrice = price / f
            let coinDeltaPerUSD = (delta - coinPrice) / f
            return OptionValuation(
                price: coinPrice,
                delta: coinDeltaPerUSD,
                gamma: (gamma - 2 * coinDeltaPerUSD) / f,
                vega: vega / f,
                theta: theta / f,
                coinDelta: delta - coinPrice
            )
        }
    }
}
