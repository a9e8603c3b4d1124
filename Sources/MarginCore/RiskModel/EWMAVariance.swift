/// Exponentially weighted moving-average variance of daily log returns (RiskMetrics, J.P. Morgan
/// Technical Document 1996, §5.2): `σ²_d = λ·σ²_{d−1} + (1 − λ)·r²_{d−1}`, λ = 0.94 for daily data.
///
/// `σ²_d` is the forecast for the return of day `d` made with the returns before it, so a return
/// is always devolatilised by a variance that did not see it. The recursion is seeded with the
/// mean squared return of the first `seedCount` returns (the Technical Document leaves the start
/// open; 30 daily returns make the seed's weight in today's forecast negligible after a year:
/// 0.94^250 ≈ 2·10⁻⁷).
public struct EWMAVariance: Sendable, Hashable {
    /// Decay λ in (0, 1).
    public let lambda: Double
    public let seedCount: Int

    public static let riskMetricsLambda = 0.94

    public init(lambda: Double = EWMAVariance.riskMetricsLambda, seedCount: Int = 30) throws(MarginError) {
        guard lambda.isFinite, lambda > 0, lambda < 1 else { throw .invalidInput(field: "lambda", reason: "must lie in (0, 1), got \(lambda)") }
        guard seedCount >= 1 else { throw .invalidInput(field: "ewma seed count", reason: "must be ≥ 1") }
        self.lambda = lambda
        self.seedCount = seedCount
    }

    /// The forecast variances of `returns`: element `i` is the variance forecast for `returns[i]`
    /// (made before it); the last element, at index `returns.count`, is the forecast for the next,
    /// unseen day (σ²_T). Daily units (a daily variance, not annualised).
    public func forecasts(_ returns: [Double]) -> [Double] {
        guard !returns.isEmpty else { return [] }
        let seedLength = min(seedCount, returns.count)
        var seed = 0.0
        for r in returns[..<seedLength] { seed += r * r }
        seed /= Double(seedLength)
        // A flat seed window (no move at all) would devolatilise by zero: keep a tiny positive floor.
        var variance = max(seed, 1e-12)
        var result = [Double](repeating: 0, count: returns.count + 1)
        for (index, r) in returns.enumerated() {
            result[index] = variance
            variance = lambda * variance + (1 - lambda) * r * r
            variance = max(variance, 1e-12)
        }
        result[returns.count] = variance
        return result
    }

    /// One step of the recursion: the next forecast after observing `r` with forecast `variance`.
    @inlinable
    public func update(_ variance: Double, with r: Double) -> Double {
        max(lambda * variance + (1 - lambda) * r * r, 1e-12)
    }

    /// EWMA covariance matrix forecast of several return series observed on the same days
    /// (row-major `n × n`), with the same λ and seeding as the variance.
    public func covariance(_ returns: [[Double]]) -> [Double] {
        let n = returns.count
        guard n > 0, let length = returns.first?.count, length > 0 else { return [] }
        let seedLength = min(seedCount, length)
        var matrix = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                var sum = 0.0
                for d in 0..<seedLength { sum += returns[i][d] * returns[j][d] }
                matrix[i * n + j] = sum / Double(seedLength)
            }
        }
        for d in 0..<length {
            for i in 0..<n {
                for j in 0..<n {
                    matrix[i * n + j] = lambda * matrix[i * n + j] + (1 - lambda) * returns[i][d] * returns[j][d]
                }
            }
        }
        for i in 0..<n { matrix[i * n + i] = max(matrix[i * n + i], 1e-12) }
        return matrix
    }
}
