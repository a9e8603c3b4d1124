/// EWMA variance with a leverage term: a negative return weighs `1 + θ`, a positive one `1 − θ`,
/// `σ²_{t+1} = λ·σ²_t + (1 − λ)·(1 − θ + 2θ·1{r_t < 0})·r²_t`, so that the average weight stays 1
/// for returns symmetric about zero (the weighting of Guermat & Harris 2002, "Forecasting
/// value at risk allowing for time variation in the variance and kurtosis of portfolio returns",
/// adapted to RiskMetrics). λ is RiskMetrics' (``EWMAVariance``); θ ∈ [0, 0.9] is chosen by the
/// Gaussian quasi-likelihood `−Σ (ln σ²_t + r²_t/σ²_t)` on a grid of step 0.05.
public struct AsymmetricEWMA: Sendable, Hashable {
    public let lambda: Double
    public let theta: Double

    public init(lambda: Double, theta: Double) {
        self.lambda = lambda
        self.theta = theta
    }

    /// The variance forecasts of `returns`, as ``EWMAVariance/forecasts(_:)``.
    public func forecasts(_ returns: [Double], seedCount: Int = 30) -> [Double] {
        guard !returns.isEmpty else { return [] }
        var variance = GJRGarch.seedVariance(returns, seedCount)
        var result = [Double](repeating: 0, count: returns.count + 1)
        for (index, r) in returns.enumerated() {
            result[index] = variance
            let weight = 1 - theta + (r < 0 ? 2 * theta : 0)
            variance = max(lambda * variance + (1 - lambda) * weight * r * r, 1e-12)
        }
        result[returns.count] = variance
        return result
    }

    /// Gaussian quasi-likelihood of the forecasts (up to a constant).
    static func quasiLikelihood(_ returns: [Double], _ variances: [Double]) -> Double {
        var total = 0.0
        for (index, r) in returns.enumerated() { total -= CMath.log(variances[index]) + r * r / variances[index] }
        return total
    }

    /// θ on the grid that maximises the quasi-likelihood of `returns` at λ.
    public static func fit(_ returns: [Double], lambda: Double, seedCount: Int = 30) -> AsymmetricEWMA {
        var best = AsymmetricEWMA(lambda: lambda, theta: 0)
        var bestValue = -Double.infinity
        for step in 0...18 {
            let candidate = AsymmetricEWMA(lambda: lambda, theta: Double(step) * 0.05)
            let value = quasiLikelihood(returns, candidate.forecasts(returns, seedCount: seedCount))
            if value > bestValue {
                bestValue = value
                best = candidate
            }
        }
        return best
    }
}
