/// Fits raw SVI smiles to market implied volatilities.
///
/// For fixed `(m, σ)` the total variance `w(k) = a + bρ·(k − m) + b·√((k − m)² + σ²)` is linear
/// in `(a, bρ, b)`: a weighted 3×3 least-squares solve. `(m, σ)` are searched on a coarse grid
/// and refined by shrinking the grid around the best point (the quasi-explicit method of
/// Zeliade). Parameters are kept admissible (b ≥ 0, |ρ| < 1, non-negative minimum variance).
public enum SVIFit {
    /// A fitted smile and its root-mean-square error in implied volatility (0.01 = 1 vol point).
    public struct Result: Sendable, Hashable {
        public var parameters: SVIParameters
        public var rmsVolatilityError: Double
        public var maxVolatilityError: Double
    }

    /// Fits `(logMoneyness k = ln(K/F), implied volatility)` points of one expiry `t` years away.
    public static func fit(points: [(k: Double, volatility: Double)], timeToExpiry t: Double) throws(MarginError) -> Result {
        guard t > 0 else { throw .invalidInput(field: "svi_fit.time_to_expiry", reason: "must be positive") }
        let clean = points.filter { $0.k.isFinite && $0.volatility.isFinite && $0.volatility > 0 }
        guard clean.count >= 5 else { throw .invalidInput(field: "svi_fit.points", reason: "need at least 5 quotes, got \(clean.count)") }
        let ks = clean.map(\.k), ws = clean.map { $0.volatility * $0.volatility * t }
        let kMin = ks.min()!, kMax = ks.max()!
        var best: (SVIParameters, Double)?
        // σ on a log grid (short expiries need very small σ), m across and beyond the quotes.
        var mRange = (kMin - 0.5 * (kMax - kMin), kMax + 0.5 * (kMax - kMin))
        var logSigmaRange = (CMath.log(1e-4), CMath.log(max(2.0, kMax - kMin)))
        for _ in 0..<8 {
            let steps = 30
            for i in 0...steps {
                let m = mRange.0 + (mRange.1 - mRange.0) * Double(i) / Double(steps)
                for j in 0...steps {
                    let sigma = CMath.exp(logSigmaRange.0 + (logSigmaRange.1 - logSigmaRange.0) * Double(j) / Double(steps))
                    guard let parameters = solveLinear(ks: ks, ws: ws, m: m, sigma: sigma) else { continue }
                    let error = squaredError(parameters, ks: ks, ws: ws)
                    if best == nil || error < best!.1 { best = (parameters, error) }
                }
            }
            guard let (p, _) = best else { break }
            let mWidth = (mRange.1 - mRange.0) / 5, sWidth = (logSigmaRange.1 - logSigmaRange.0) / 5
            mRange = (p.m - mWidth, p.m + mWidth)
            logSigmaRange = (CMath.log(p.sigma) - sWidth, CMath.log(p.sigma) + sWidth)
        }
        guard let parameters = best?.0 else { throw .numerical("no admissible SVI fit") }
        var sum = 0.0, worst = 0.0
        for point in clean {
            let w = max(parameters.totalVariance(atLogMoneyness: point.k), 0)
            let error = abs((w / t).squareRoot() - point.volatility)
            sum += error * error
            worst = max(worst, error)
        }
        return Result(parameters: parameters, rmsVolatilityError: (sum / Double(clean.count)).squareRoot(), maxVolatilityError: worst)
    }

    static func squaredError(_ p: SVIParameters, ks: [Double], ws: [Double]) -> Double {
        var total = 0.0
        for (k, w) in zip(ks, ws) {
            let d = (p.totalVariance(atLogMoneyness: k) - w) / max(w, 1e-12)
            total += d * d
        }
        return total
    }

    /// Least squares in (a, c = bρ, b) for fixed (m, σ), then projected onto admissible values.
    static func solveLinear(ks: [Double], ws: [Double], m: Double, sigma: Double) -> SVIParameters? {
        var ata = [[Double]](repeating: [0, 0, 0], count: 3)
        var atb = [0.0, 0.0, 0.0]
        for (k, w) in zip(ks, ws) {
            let x = k - m
            let row = [1.0, x, (x * x + sigma * sigma).squareRoot()]
            // Relative variance errors (≈ twice the relative vol error): wings do not dominate.
            let weight = 1 / max(w * w, 1e-12)
            for r in 0..<3 {
                atb[r] += weight * row[r] * w
                for c in 0..<3 { ata[r][c] += weight * row[r] * row[c] }
            }
        }
        guard let solution = solve3(ata, atb) else { return nil }
        var b = max(solution[2], 1e-8)
        var rho = solution[1] / b
        if abs(rho) >= 0.999 {
            rho = rho > 0 ? 0.999 : -0.999
            b = max(b, abs(solution[1]) / 0.999)
        }
        let minimum = b * sigma * (1 - rho * rho).squareRoot()
        let a = max(solution[0], -minimum + 1e-10)
        return SVIParameters(a: a, b: b, rho: rho, m: m, sigma: sigma)
    }

    /// Gaussian elimination with partial pivoting for a 3×3 system.
    static func solve3(_ matrix: [[Double]], _ vector: [Double]) -> [Double]? {
        var a = matrix, b = vector
        for column in 0..<3 {
            let pivot = (column..<3).max { abs(a[$0][column]) < abs(a[$1][column]) }!
            guard abs(a[pivot][column]) > 1e-14 else { return nil }
            a.swapAt(column, pivot)
            b.swapAt(column, pivot)
            for row in (column + 1)..<3 {
                let factor = a[row][column] / a[column][column]
                for c in column..<3 { a[row][c] -= factor * a[column][c] }
                b[row] -= factor * b[column]
            }
        }
        var x = [0.0, 0.0, 0.0]
        for row in stride(from: 2, through: 0, by: -1) {
            var sum = b[row]
            for c in (row + 1)..<3 { sum -= a[row][c] * x[c] }
            x[row] = sum / a[row][row]
        }
        return x
    }
}
