/// How an expiry bucket becomes PnL — the one definition that the SIMD aggregation
/// (``ScenarioAggregation``) and the explanation's per-position contributions share.
///
/// A bucket is `Σ quantity × value` over the options of one expiry. Its shocked value is statically
/// discounted by its sign when the unit's rule is on (the positive factor for a net long value, the
/// negative one for a net short), the current value is subtracted and the result dampened; in skew
/// scenarios a gain counts as a loss (Derive PMRM_2).
enum ExpiryBucketRule {
    /// The static-discount factor of each lane's shocked bucket value (1 without the rule).
    @inline(__always)
    static func discountFactor(shocked: DoubleLanes, positive: DoubleLanes, negative: DoubleLanes, enabled: Bool) -> DoubleLanes {
        enabled ? negative.replacing(with: positive, where: shocked .>= 0) : DoubleLanes(repeating: 1)
    }

    /// −1 in the lanes where a skew scenario's gain is counted as a loss, else 1 (`skew` > 0 marks a
    /// skew scenario).
    @inline(__always)
    static func skewSign(pnl: DoubleLanes, skew: DoubleLanes) -> DoubleLanes {
        DoubleLanes(repeating: 1).replacing(with: -1, where: (skew .> 0) .& (pnl .> 0))
    }

    /// The bucket's PnL per lane (valuation units, negative = loss).
    @inline(__always)
    static func pnl(shocked: DoubleLanes, current: DoubleLanes, positive: DoubleLanes, negative: DoubleLanes, discount: Bool,
                    dampening: DoubleLanes, skew: DoubleLanes) -> DoubleLanes {
        let raw = (shocked * discountFactor(shocked: shocked, positive: positive, negative: negative, enabled: discount) - current) * dampening
        return raw * skewSign(pnl: raw, skew: skew)
    }

    /// The basis contingency of a bucket (≤ 0, valuation units): its worse PnL under the basis-up
    /// and basis-down columns, times the expiry's basis factor.
    @inline(__always)
    static func basis(up: Double, down: Double, factor: Double) -> Double {
        min(up, down, 0) * factor
    }

    /// One column's factor and sign for the explanation: `(discount factor, skew sign)`.
    static func scalar(shocked: Double, current: Double, positive: Double, negative: Double, discount: Bool, dampening: Double,
                       skew: Bool) -> (factor: Double, sign: Double) {
        let factor = discountFactor(shocked: DoubleLanes(repeating: shocked), positive: DoubleLanes(repeating: positive),
                                    negative: DoubleLanes(repeating: negative), enabled: discount)[0]
        let raw = (shocked * factor - current) * dampening
        return (factor, skewSign(pnl: DoubleLanes(repeating: raw), skew: DoubleLanes(repeating: skew ? 1 : 0))[0])
    }
}

extension RiskBook {
    /// Calls `body(run, group)` for each run of consecutive holdings in one expiry group — holdings
    /// sorted by slot are grouped by expiry — with `expiry(slot)` the slot's group. The one walk the
    /// aggregation, the confidence contingency and the explanation share.
    @inline(__always)
    static func forEachExpiryRun<Holdings: RandomAccessCollection<AccountExposure.OptionHolding>>(
        _ holdings: Holdings, expiry: (Int) -> Int, _ body: (Range<Int>, Int) -> Void) where Holdings.Index == Int {
        var start = holdings.startIndex
        while start < holdings.endIndex {
            let group = expiry(holdings[start].slot)
            var end = start + 1
            while end < holdings.endIndex, expiry(holdings[end].slot) == group { end += 1 }
            body(start..<end, group)
            start = end
        }
    }
}
