extension RiskBook {
    /// Worst scenario PnL (≤ 0 is a loss, valuation units) of an account's *option* positions on
    /// this book's underlying: the bare aggregation over the risk arrays (per-expiry sums, static
    /// discount, dampening, skew sign), without delta-one positions or contingencies. This is the
    /// operation `margin-engine bench` times as `aggregation_ns_per_account`.
    public func worstOptionScenarioPnL(of exposure: AccountExposure) -> Double {
        guard let unitIndex = exposure.units.firstIndex(where: { $0.underlying == underlying }) else { return 0 }
        let padded = paddedScenarioCount
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: padded + stride) { scratch in
            let total = UnsafeMutableBufferPointer(rebasing: scratch[0..<padded])
            let bucket = UnsafeMutableBufferPointer(rebasing: scratch[padded..<(padded + stride)])
            _ = exposure.units[unitIndex].options.withUnsafeBufferPointer { holdings in
                ScenarioAggregation.aggregate(book: self, holdings: holdings, deltaOneNotional: 0, total: total, bucket: bucket)
            }
            // Padding lanes hold 0, which the floor at 0 absorbs.
            let lanes = DoubleLanes.scalarCount
            var worst = DoubleLanes.zero
            var offset = 0
            while offset < padded {
                worst = VectorMath.minimum(worst, ScenarioAggregation.load(total.baseAddress! + offset))
                offset += lanes
            }
            return worst.min()
        }
    }
}
