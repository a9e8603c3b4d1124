#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The binomial distribution `Bin(n, p)`: the number of exceptions in `n` independent days that
/// each breach with probability `p`.
public enum Binomial {
    /// `ln P(X = k)` for `X ~ Bin(n, p)`:
    /// `ln Γ(n+1) − ln Γ(k+1) − ln Γ(n−k+1) + k ln p + (n−k) ln(1−p)`, with `0 · ln 0 = 0`
    /// (so `p = 0` or `p = 1` give exact degenerate masses). `−∞` outside `0...n`.
    public static func logProbabilityMass(_ k: Int, trials n: Int, probability p: Double) -> Double {
        precondition(n >= 0, "Binomial trials must be non-negative")
        precondition(p >= 0 && p <= 1, "Binomial probability must be in [0, 1]")
        guard k >= 0, k <= n else { return -.infinity }
        let logChoose = lgamma(Double(n) + 1) - lgamma(Double(k) + 1) - lgamma(Double(n - k) + 1)
        return logChoose + xLogY(Double(k), p) + xLogY(Double(n - k), 1 - p)
    }

    /// The cumulative distribution `P(X ≤ k)` for `X ~ Bin(n, p)`, in `[0, 1]`.
    ///
    /// Sums the masses `0...k` in log space (log-sum-exp around the largest term) so that it stays
    /// accurate for `n` in the thousands, where `p^k` and the binomial coefficients under- and
    /// overflow a `Double`. `k < 0` gives 0 and `k ≥ n` gives 1. O(k) `lgamma` calls.
    public static func cdf(_ k: Int, trials n: Int, probability p: Double) -> Double {
        precondition(n >= 0, "Binomial trials must be non-negative")
        precondition(p >= 0 && p <= 1, "Binomial probability must be in [0, 1]")
        if k < 0 { return 0 }
        if k >= n { return 1 }
        var logs = [Double]()
        logs.reserveCapacity(k + 1)
        for i in 0...k { logs.append(logProbabilityMass(i, trials: n, probability: p)) }
        let largest = logs.max() ?? -.infinity
        guard largest > -.infinity else { return 0 }
        var sum = 0.0
        for value in logs { sum += exp(value - largest) }
        return min(1, max(0, exp(largest + log(sum))))
    }
}

/// `x · ln y` with the convention `0 · ln 0 = 0` (the limit the likelihood ratios rely on).
@inline(__always)
func xLogY(_ x: Double, _ y: Double) -> Double {
    x == 0 ? 0 : x * log(y)
}
