/// Day-to-day transitions of an exception indicator: `nij` counts the days in state `i` followed
/// by a day in state `j` (0 = no exception, 1 = exception). A sequence of `T` days has `T − 1`
/// transitions.
public struct TransitionCounts: Sendable, Hashable {
    public var n00: Int
    public var n01: Int
    public var n10: Int
    public var n11: Int

    public init(n00: Int, n01: Int, n10: Int, n11: Int) {
        precondition(n00 >= 0 && n01 >= 0 && n10 >= 0 && n11 >= 0, "transition counts must be ≥ 0")
        self.n00 = n00
        self.n01 = n01
        self.n10 = n10
        self.n11 = n11
    }

    /// Counts the transitions of consecutive entries of `exceptions` (`true` = exception).
    public init(_ exceptions: [Bool]) {
        var counts = (0, 0, 0, 0)
        for (today, tomorrow) in zip(exceptions, exceptions.dropFirst()) {
            switch (today, tomorrow) {
            case (false, false): counts.0 += 1
            case (false, true): counts.1 += 1
            case (true, false): counts.2 += 1
            case (true, true): counts.3 += 1
            }
        }
        self.init(n00: counts.0, n01: counts.1, n10: counts.2, n11: counts.3)
    }

    /// `n00 + n01 + n10 + n11`.
    public var total: Int { n00 + n01 + n10 + n11 }
}

/// Christoffersen's independence and conditional-coverage tests: do exceptions cluster, and is
/// coverage right *and* exceptions independent?
///
/// Source: P. Christoffersen (1998), "Evaluating Interval Forecasts", *International Economic
/// Review* 39(4), 841–862. With `π0 = n01/(n00+n01)`, `π1 = n11/(n10+n11)` and
/// `π = (n01+n11)/(n00+n01+n10+n11)`:
///
///     LR_IND = −2 ln[(1−π)^(n00+n10) · π^(n01+n11)]
///              + 2 ln[(1−π0)^n00 · π0^n01 · (1−π1)^n10 · π1^n11]      ~ χ²₁
///     LR_CC  = LR_POF + LR_IND                                          ~ χ²₂
///
/// with `0 · ln 0 = 0`, so empty rows (no day in state 0 or 1) contribute nothing. This is the
/// decomposition MathWorks' `varbacktest` (`cci`, `cc`) reports. Encoded as
/// `{"lr_ind", "p_ind", "lr_cc", "p_cc"}`.
public struct ChristoffersenTest: Sendable, Hashable, Codable {
    /// The independence statistic `LR_IND` (≥ 0).
    public var lrIndependence: Double
    /// `P(χ²₁ > LR_IND)`.
    public var pIndependence: Double
    /// The conditional-coverage statistic `LR_CC = LR_POF + LR_IND` (≥ 0).
    public var lrConditionalCoverage: Double
    /// `P(χ²₂ > LR_CC)`.
    public var pConditionalCoverage: Double

    enum CodingKeys: String, CodingKey {
        case lrIndependence = "lr_ind"
        case pIndependence = "p_ind"
        case lrConditionalCoverage = "lr_cc"
        case pConditionalCoverage = "p_cc"
    }

    public init(lrIndependence: Double, pIndependence: Double,
                lrConditionalCoverage: Double, pConditionalCoverage: Double) {
        self.lrIndependence = lrIndependence
        self.pIndependence = pIndependence
        self.lrConditionalCoverage = lrConditionalCoverage
        self.pConditionalCoverage = pConditionalCoverage
    }

    /// The tests from the transition counts and the proportion-of-failures result on the same
    /// sequence.
    ///
    /// Fewer than two observations (no transition), or no exception or only exceptions, give
    /// `LR_IND = 0` (`p_ind = 1`): nothing can cluster. Rounding below zero is clamped to 0.
    public init(transitions c: TransitionCounts, proportionOfFailures pof: KupiecTest) {
        let lrInd = Self.independenceStatistic(c)
        let lrCC = pof.lr + lrInd
        self.init(lrIndependence: lrInd, pIndependence: ChiSquared.survival1(lrInd),
                  lrConditionalCoverage: lrCC, pConditionalCoverage: ChiSquared.survival2(lrCC))
    }

    /// `LR_IND` from the transition counts (see the type's documentation).
    public static func independenceStatistic(_ c: TransitionCounts) -> Double {
        guard c.total > 0 else { return 0 }
        let n00 = Double(c.n00), n01 = Double(c.n01), n10 = Double(c.n10), n11 = Double(c.n11)
        let pi = (n01 + n11) / (n00 + n01 + n10 + n11)
        // An empty row has zero counts, so its (undefined) rate is multiplied by zero.
        let pi0 = n00 + n01 > 0 ? n01 / (n00 + n01) : 0
        let pi1 = n10 + n11 > 0 ? n11 / (n10 + n11) : 0
        let restricted = xLogY(n00 + n10, 1 - pi) + xLogY(n01 + n11, pi)
        let unrestricted = xLogY(n00, 1 - pi0) + xLogY(n01, pi0) + xLogY(n10, 1 - pi1) + xLogY(n11, pi1)
        return max(0, -2 * (restricted - unrestricted))
    }
}
