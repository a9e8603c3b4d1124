#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
/// Out-of-sample loss of one-day variance forecasts against the next day's squared return, the two
/// losses Patton (2011, "Volatility forecast comparison using imperfect volatility proxies",
/// Journal of Econometrics 160(1)) shows rank forecasts consistently with a noisy proxy:
/// `QLIKE = mean(ln σ² + r²/σ²)` and `MSE = mean((r² − σ²)²)` (lower is better; daily units).
/// Encoded as `{"observations", "qlike", "mse"}`; with no observation both are 0.
public struct ForecastLoss: Sendable, Hashable, Codable {
    public var observations: Int
    public var qlike: Double
    public var mse: Double

    public init(observations: Int, qlike: Double, mse: Double) {
        self.observations = observations
        self.qlike = qlike
        self.mse = mse
    }

    /// The losses of `forecasts[i]` (a positive daily variance) against `returns[i]`.
    public init(forecasts: [Double], returns: [Double]) {
        var qlike = 0.0, mse = 0.0, n = 0
        for (variance, r) in zip(forecasts, returns) where variance > 0 && variance.isFinite && r.isFinite {
            let square = r * r
            qlike += log(variance) + square / variance
            mse += (square - variance) * (square - variance)
            n += 1
        }
        self.init(observations: n, qlike: n > 0 ? qlike / Double(n) : 0, mse: n > 0 ? mse / Double(n) : 0)
    }
}
