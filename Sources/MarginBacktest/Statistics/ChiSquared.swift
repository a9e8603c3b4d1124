#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The χ² distribution's survival function for the degrees of freedom the coverage tests need.
///
/// Closed forms (Abramowitz & Stegun 26.4.4 and 26.4.5; NIST Handbook of Mathematical Functions
/// 8.2 / 7.2): for one degree of freedom `Q(x; 1) = erfc(√(x/2))`; for two degrees of freedom
/// `Q(x; 2) = exp(−x/2)`.
public enum ChiSquared {
    /// `P(χ²₁ > x)`: the p-value of a likelihood-ratio statistic with one restriction.
    ///
    /// `x ≤ 0` (including rounding just below zero) gives 1; `x = +∞` gives 0; NaN gives NaN.
    public static func survival1(_ x: Double) -> Double {
        if x.isNaN { return .nan }
        if x <= 0 { return 1 }
        return erfc((x / 2).squareRoot())
    }

    /// `P(χ²₂ > x)`: the p-value of a likelihood-ratio statistic with two restrictions.
    ///
    /// `x ≤ 0` gives 1; `x = +∞` gives 0; NaN gives NaN.
    public static func survival2(_ x: Double) -> Double {
        if x.isNaN { return .nan }
        if x <= 0 { return 1 }
        return exp(-x / 2)
    }

    /// `P(χ²ₖ > x)` for `k` of 1 or 2 (the only degrees of freedom the backtest uses).
    public static func survival(_ x: Double, degreesOfFreedom k: Int) -> Double {
        precondition(k == 1 || k == 2, "ChiSquared.survival supports 1 or 2 degrees of freedom, got \(k)")
        return k == 1 ? survival1(x) : survival2(x)
    }
}
