/// GJR-GARCH(1,1) with Student-t innovations, fitted by maximum likelihood.
///
/// `σ²_t = ω + (α + γ·1{r_{t−1} < 0})·r²_{t−1} + β·σ²_{t−1}` (Glosten, Jagannathan & Runkle 1993,
/// "On the relation between the expected value and the volatility of the nominal excess return on
/// stocks", Journal of Finance 48(5)), `r_t = σ_t·z_t` with `z_t` Student-t of `ν` degrees of freedom
/// scaled to unit variance (Bollerslev 1987). Zero mean (daily returns). The recursion starts from the
/// mean square of the first `seedCount` returns, like ``EWMAVariance``.
///
/// Fit: Nelder–Mead (``NelderMead``) on `(ln ω, α, γ, β, ν)` from `ω = 0.025·var, α = γ = 0.05,
/// β = 0.9, ν = 6`, restarted once from its optimum; bounds `α, γ, β ≥ 0`, `α + γ/2 + β ≤ 0.999`
/// (covariance stationarity for symmetric innovations), `2.1 ≤ ν ≤ 100`, enforced by an infinite
/// objective outside them. The fit is refused (and the caller falls back) when the optimum is not
/// finite or the simplex did not converge.
public struct GJRGarch: Sendable, Hashable {
    public var omega: Double
    public var alpha: Double
    public var gamma: Double
    public var beta: Double
    public var nu: Double

    public init(omega: Double, alpha: Double, gamma: Double, beta: Double, nu: Double) {
        self.omega = omega
        self.alpha = alpha
        self.gamma = gamma
        self.beta = beta
        self.nu = nu
    }

    /// `α + γ/2 + β`: how long shocks persist.
    public var persistence: Double { alpha + gamma / 2 + beta }

    var isAdmissible: Bool {
        omega > 0 && alpha >= 0 && gamma >= 0 && beta >= 0 && persistence <= 0.999 && nu >= 2.1 && nu <= 100
            && [omega, alpha, gamma, beta, nu].allSatisfy(\.isFinite)
    }

    /// The variance forecasts of `returns`: element `i` for `returns[i]` (made before it), the last
    /// one for the next, unseen day (daily units), as ``EWMAVariance/forecasts(_:)``.
    public func forecasts(_ returns: [Double], seedCount: Int = 30) -> [Double] {
        guard !returns.isEmpty else { return [] }
        var variance = Self.seedVariance(returns, seedCount)
        var result = [Double](repeating: 0, count: returns.count + 1)
        for (index, r) in returns.enumerated() {
            result[index] = variance
            variance = max(omega + (alpha + (r < 0 ? gamma : 0)) * r * r + beta * variance, 1e-12)
        }
        result[returns.count] = variance
        return result
    }

    /// The Student-t log-likelihood of `returns` under these parameters:
    /// `Σ [ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ ln(π(ν−2)σ²_t) − (ν+1)/2 · ln(1 + r²_t/((ν−2)σ²_t))]`.
    public func logLikelihood(_ returns: [Double], seedCount: Int = 30) -> Double {
        let variances = forecasts(returns, seedCount: seedCount)
        let constant = CMath.lgamma((nu + 1) / 2) - CMath.lgamma(nu / 2) - 0.5 * CMath.log(Double.pi * (nu - 2))
        var total = 0.0
        for (index, r) in returns.enumerated() {
            let v = variances[index]
            total += constant - 0.5 * CMath.log(v) - (nu + 1) / 2 * CMath.log(1 + r * r / ((nu - 2) * v))
        }
        return total
    }

    static func seedVariance(_ returns: [Double], _ seedCount: Int) -> Double {
        let length = min(max(seedCount, 1), returns.count)
        var sum = 0.0
        for r in returns[..<length] { sum += r * r }
        return max(sum / Double(length), 1e-12)
    }

    /// The maximum-likelihood parameters for `returns`, or nil when the fit fails (see the type).
    public static func fit(_ returns: [Double], seedCount: Int = 30) -> (parameters: GJRGarch, logLikelihood: Double)? {
        guard returns.count > max(seedCount, 50) else { return nil }
        var variance = 0.0
        for r in returns { variance += r * r }
        variance /= Double(returns.count)
        guard variance > 0, variance.isFinite else { return nil }
        func model(_ x: [Double]) -> GJRGarch { GJRGarch(omega: CMath.exp(x[0]), alpha: x[1], gamma: x[2], beta: x[3], nu: x[4]) }
        func objective(_ x: [Double]) -> Double {
            let m = model(x)
            guard m.isAdmissible else { return .infinity }
            let value = -m.logLikelihood(returns, seedCount: seedCount)
            return value.isFinite ? value : .infinity
        }
        let start = [CMath.log(0.025 * variance), 0.05, 0.05, 0.9, 6]
        let steps = [0.5, 0.02, 0.02, 0.02, 1]
        let first = NelderMead.minimize(objective, start: start, steps: steps, tolerance: 1e-10, maxIterations: 4_000)
        let second = NelderMead.minimize(objective, start: first.point, steps: steps.map { $0 / 4 }, tolerance: 1e-10, maxIterations: 4_000)
        let best = second.value <= first.value ? second : first
        guard best.value.isFinite, best.converged else { return nil }
        return (model(best.point), -best.value)
    }
}
