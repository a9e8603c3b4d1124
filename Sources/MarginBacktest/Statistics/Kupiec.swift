/// Kupiec's proportion-of-failures test: is the exception rate consistent with the model's
/// coverage probability?
///
/// Source: P. Kupiec (1995), "Techniques for Verifying the Accuracy of Risk Measurement Models",
/// *Journal of Derivatives* 3(2), 73–84. With `T` observations, `x` exceptions and coverage
/// probability `p` (the expected exception rate, `1 − confidence`):
///
///     LR_POF = −2 ln[(1−p)^(T−x) · p^x] + 2 ln[(1−x/T)^(T−x) · (x/T)^x]
///
/// asymptotically χ² with one degree of freedom under the null hypothesis; `0 · ln 0 = 0`, so
/// `x = 0` and `x = T` are well defined. Encoded as `{"lr", "p"}`.
public struct KupiecTest: Sendable, Hashable, Codable {
    /// The likelihood-ratio statistic (≥ 0, dimensionless).
    public var lr: Double
    /// Its p-value `P(χ²₁ > lr)`: small values reject correct coverage.
    public var p: Double

    public init(lr: Double, p: Double) {
        self.lr = lr
        self.p = p
    }

    /// The test on `exceptions` out of `observations` at coverage probability `probability`.
    ///
    /// Undefined cases, reported as "no evidence against the model" (`lr = 0`, `p = 1`):
    /// no observations. `probability` must lie strictly between 0 and 1; rounding that would make
    /// the statistic slightly negative is clamped to 0.
    public init(observations: Int, exceptions: Int, probability: Double) {
        precondition(probability > 0 && probability < 1, "coverage probability must be in (0, 1)")
        precondition(observations >= 0 && exceptions >= 0 && exceptions <= observations,
                     "need 0 ≤ exceptions ≤ observations")
        guard observations > 0 else {
            self.init(lr: 0, p: 1)
            return
        }
        let t = Double(observations)
        let x = Double(exceptions)
        let rate = x / t
        let nullLog = xLogY(t - x, 1 - probability) + xLogY(x, probability)
        let fittedLog = xLogY(t - x, 1 - rate) + xLogY(x, rate)
        let lr = max(0, -2 * (nullLog - fittedLog))
        self.init(lr: lr, p: ChiSquared.survival1(lr))
    }
}
