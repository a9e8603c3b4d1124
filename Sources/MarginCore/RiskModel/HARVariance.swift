/// Heterogeneous autoregressive model of realised variance (Corsi 2009, "A simple approximate
/// long-memory model of realized volatility", Journal of Financial Econometrics 7(2)):
/// `σ²_{t+1} = b₀ + b_d·RV_t + b_w·RV^(5)_t + b_m·RV^(22)_t`, where `RV^(k)_t` is the mean of the last
/// `k` daily realised variances. Daily closes carry no intraday data, so the squared daily return
/// stands in for the realised variance (the noisiest proxy; stated). Fitted by ordinary least
/// squares; a forecast is floored at 10 % of the fit sample's mean squared return (a negative or
/// vanishing forecast would devolatilise by nothing).
public struct HARVariance: Sendable, Hashable {
    public var intercept: Double
    public var daily: Double
    public var weekly: Double
    public var monthly: Double
    /// The forecast floor (daily variance).
    public var floor: Double

    public init(intercept: Double, daily: Double, weekly: Double, monthly: Double, floor: Double) {
        self.intercept = intercept
        self.daily = daily
        self.weekly = weekly
        self.monthly = monthly
        self.floor = floor
    }

    /// The regressors at return index `t`: `(1, r²_t, mean r² of t−4…t, mean r² of t−21…t)`.
    static func regressors(_ squares: [Double], prefix: [Double], at t: Int) -> (Double, Double, Double) {
        (squares[t], (prefix[t + 1] - prefix[t - 4]) / 5, (prefix[t + 1] - prefix[t - 21]) / 22)
    }

    static func prefixSums(_ squares: [Double]) -> [Double] {
        var prefix = [Double](repeating: 0, count: squares.count + 1)
        for (i, x) in squares.enumerated() { prefix[i + 1] = prefix[i] + x }
        return prefix
    }

    /// The least-squares fit of `r²_{t+1}` on the regressors at `t`, over every `t ≥ 21`; nil with
    /// fewer than 30 equations or a singular system.
    public static func fit(_ returns: [Double]) -> HARVariance? {
        let squares = returns.map { $0 * $0 }
        guard squares.count >= 21 + 30 + 1 else { return nil }
        let prefix = prefixSums(squares)
        // Normal equations XᵀX b = Xᵀy for the 4 coefficients.
        var xtx = [Double](repeating: 0, count: 16), xty = [Double](repeating: 0, count: 4)
        for t in 21..<(squares.count - 1) {
            let (d, w, m) = regressors(squares, prefix: prefix, at: t)
            let x = [1, d, w, m]
            for i in 0..<4 {
                xty[i] += x[i] * squares[t + 1]
                for j in 0..<4 { xtx[i * 4 + j] += x[i] * x[j] }
            }
        }
        guard let b = LinearSolve.solve(xtx, xty, size: 4) else { return nil }
        let mean = prefix[squares.count] / Double(squares.count)
        return HARVariance(intercept: b[0], daily: b[1], weekly: b[2], monthly: b[3], floor: 0.1 * mean)
    }

    /// The variance forecasts of `returns` (as ``EWMAVariance/forecasts(_:)``): before 22 returns are
    /// known, the mean square of the first `seedCount`.
    public func forecasts(_ returns: [Double], seedCount: Int = 30) -> [Double] {
        guard !returns.isEmpty else { return [] }
        let squares = returns.map { $0 * $0 }
        let prefix = Self.prefixSums(squares)
        let seed = GJRGarch.seedVariance(returns, seedCount)
        var result = [Double](repeating: seed, count: returns.count + 1)
        guard returns.count >= 22 else { return result }
        for t in 21..<returns.count {
            let (d, w, m) = Self.regressors(squares, prefix: prefix, at: t)
            result[t + 1] = max(intercept + daily * d + weekly * w + monthly * m, floor, 1e-12)
        }
        return result
    }
}

/// Gaussian elimination with partial pivoting for small dense systems (row-major `size × size`).
enum LinearSolve {
    static func solve(_ matrix: [Double], _ rhs: [Double], size n: Int) -> [Double]? {
        var a = matrix, b = rhs
        for column in 0..<n {
            var pivot = column
            for row in (column + 1)..<n where abs(a[row * n + column]) > abs(a[pivot * n + column]) { pivot = row }
            guard abs(a[pivot * n + column]) > 1e-300 else { return nil }
            if pivot != column {
                for k in 0..<n { a.swapAt(column * n + k, pivot * n + k) }
                b.swapAt(column, pivot)
            }
            for row in (column + 1)..<n {
                let factor = a[row * n + column] / a[column * n + column]
                for k in column..<n { a[row * n + k] -= factor * a[column * n + k] }
                b[row] -= factor * b[column]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            var sum = b[row]
            for k in (row + 1)..<n { sum -= a[row * n + k] * x[k] }
            x[row] = sum / a[row * n + row]
        }
        return x.allSatisfy(\.isFinite) ? x : nil
    }
}
