/// Implied volatility from an option price under Black-76.
///
/// Works on the out-of-the-money side (puts below the forward, calls above, via put–call parity)
/// and solves `ln(price(s)) = ln(target)` in total volatility `s = σ√T` with Newton steps kept
/// inside a shrinking bracket (bisection when a step leaves it). The log form keeps deep
/// out-of-the-money prices (1e-12 of the forward and less) well conditioned. Prices outside the
/// no-arbitrage bounds are refused with a reason; no NaN is ever returned.
public enum ImpliedVolatility {
    /// Solves for annualised volatility.
    ///
    /// - Parameters:
    ///   - price: the option price in the settlement's units (USD per unit for linear, coins for inverse).
    ///   - inputs: forward, strike, time, rate, right and settlement; `volatility` is ignored.
    ///   - tolerance: relative tolerance on the price.
    public static func solve(price: Double, inputs: Black76Inputs, tolerance: Double = 1e-12) throws(MarginError) -> Double {
        var probe = inputs
        probe.volatility = 0
        try probe.validate()
        _ = try price.requireFinite("price")
        guard inputs.timeToExpiry > 0 else {
            throw .invalidInput(field: "expiry_years", reason: "an expired option has no implied volatility")
        }
        let f = inputs.forward, k = inputs.strike, t = inputs.timeToExpiry
        let discount = CMath.exp(-inputs.rate * t)
        let linearPrice = inputs.settlement == .linear ? price : price * f
        let undiscounted = linearPrice / discount

        // Convert to the out-of-the-money option through parity: C − P = F − K (undiscounted).
        let useCall = f <= k
        var target: Double
        switch (inputs.right, useCall) {
        case (.call, true), (.put, false): target = undiscounted
        case (.call, false): target = undiscounted - (f - k)
        case (.put, true): target = undiscounted - (k - f)
        }
        let upperBound = useCall ? f : k
        let scale = max(f, k)
        if target <= 1e-15 * scale {
            if target < -1e-12 * scale {
                throw .invalidInput(field: "price", reason: "below intrinsic value (\(price))")
            }
            throw .invalidInput(field: "price", reason: "equals intrinsic value; implied volatility is zero or undefined")
        }
        guard target < upperBound else {
            throw .invalidInput(field: "price", reason: "at or above the no-arbitrage upper bound (\(price))")
        }
        let right: OptionRight = useCall ? .call : .put
        let logTarget = CMath.log(target)

        // Bracket in total volatility. price(s) is increasing in s, from 0 to upperBound.
        var low = 0.0
        var high = 1.0
        while Black76.undiscounted(forward: f, strike: k, totalVolatility: high, right: right).price < target {
            low = high
            high *= 2
            if high > 1e3 { throw .numerical("implied volatility above 1000·√T") }
        }
        // Start at the inflection point √(2|ln F/K|), which makes Newton monotone, clamped into the bracket.
        var s = min(max((2 * abs(CMath.log(f / k))).squareRoot(), 0.5 * (low + high)), high)
        if s <= low { s = 0.5 * (low + high) }
        for _ in 0..<100 {
            let (value, d1) = Black76.undiscounted(forward: f, strike: k, totalVolatility: s, right: right)
            if value <= 0 {
                low = s
                s = 0.5 * (low + high)
                continue
            }
            let residual = CMath.log(value) - logTarget
            if abs(residual) < tolerance { return s / t.squareRoot() }
            if residual > 0 { high = s } else { low = s }
            let vegaTotal = f * NormalDistribution.pdf(d1) // ∂price/∂s, undiscounted
            var next = s - residual * value / vegaTotal
            if !(next > low && next < high) || !next.isFinite { next = 0.5 * (low + high) }
            if abs(next - s) <= 1e-15 * s { return next / t.squareRoot() }
            s = next
        }
        if high - low <= 1e-10 * high { return 0.5 * (low + high) / t.squareRoot() }
        throw .numerical("implied volatility did not converge")
    }
}
