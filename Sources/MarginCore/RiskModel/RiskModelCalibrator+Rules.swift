/// The calibrator's scalar rules: revolatilisation, phase-in, rolling stress volatility, quantiles.
extension RiskModelCalibrator {
    /// The revolatilisation factor of one day's return: `σ_used/σ_d`, bounded by `bound`. It never
    /// falls as σ_used rises (APC's σ is never below the plain model's, and neither is any day's
    /// move); a window mixing bounded and unbounded days is not linear in σ_used, so a scenario sum
    /// — and the tail measure — may move the other way by the unbounded days' share.
    @inline(__always)
    static func revolatilisation(to sigma: Double, day: Double, bound: Double) -> Double {
        min(sigma / day, bound)
    }

    /// `value` moved towards from `previous` by at most `maxStep` per day, compounded over `days`.
    static func phaseIn(_ value: Double, previous: Double?, maxStep: Double, days: Double, held: inout Bool) -> Double {
        guard let previous, previous > 0 else { return value }
        let up = previous * CMath.pow(1 + maxStep, days)
        let down = previous * CMath.pow(1 - maxStep, days)
        let result = min(max(value, down), up)
        if result != value { held = true }
        return result
    }

    /// The largest root-mean-square of `window` consecutive returns ending at or after `from`
    /// (zero-mean, as daily returns are); the whole series' when it is shorter than the window.
    static func maximumRollingVolatility(_ returns: [Double], window: Int, from: Int) -> Double {
        guard returns.count > window else { return rootMeanSquare(returns[...]) }
        var prefix = [Double](repeating: 0, count: returns.count + 1)
        for (i, r) in returns.enumerated() { prefix[i + 1] = prefix[i] + r * r }
        var best = 0.0
        for last in max(window, from + 1)...returns.count {
            best = max(best, prefix[last] - prefix[last - window])
        }
        return (best / Double(window)).squareRoot()
    }

    static func rootMeanSquare(_ values: ArraySlice<Double>) -> Double {
        guard !values.isEmpty else { return 0 }
        var sum = 0.0
        for v in values { sum += v * v }
        return (sum / Double(values.count)).squareRoot()
    }

    /// The empirical quantile at `p` (the ⌈n·p⌉-th smallest value, the inverse of the empirical CDF).
    public static func quantile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = min(sorted.count, max(1, Int((Double(sorted.count) * p - 1e-9).rounded(.up))))
        return sorted[rank - 1]
    }
}
