extension RiskBook {
    /// Scratch sizes up to this many doubles (1 KiB) use a constant-size stack allocation.
    static let smallScratch = 128

    /// Runs `body` with stack scratch for one aggregation: `total` (the padded scenario lanes) and
    /// `bucket` (one row). A constant-size allocation is used whenever it fits, because a
    /// variable-size `withUnsafeTemporaryAllocation` calls the runtime's stack check every time.
    @inline(__always)
    func withAggregationScratch<R>(_ body: (_ total: UnsafeMutableBufferPointer<Double>, _ bucket: UnsafeMutableBufferPointer<Double>) -> R) -> R {
        let padded = paddedScenarioCount
        let needed = padded + stride
        func split(_ scratch: UnsafeMutableBufferPointer<Double>) -> R {
            body(UnsafeMutableBufferPointer(rebasing: scratch[0..<padded]), UnsafeMutableBufferPointer(rebasing: scratch[padded..<needed]))
        }
        if needed <= Self.smallScratch {
            return withUnsafeTemporaryAllocation(of: Double.self, capacity: Self.smallScratch, split)
        }
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: needed, split)
    }

    /// Worst scenario PnL (≤ 0 is a loss, valuation units) of an account's *option* positions on
    /// this book's underlying: the bare aggregation over the risk arrays (per-expiry sums, static
    /// discount, dampening, skew sign), without delta-one positions or contingencies. This is the
    /// operation `margin-engine-bench` times as `aggregation_ns_per_account`.
    public func worstOptionScenarioPnL(of exposure: AccountExposure) -> Double {
        guard let unitIndex = exposure.units.firstIndex(where: { $0.underlying == underlying }) else { return 0 }
        let options = exposure.units[unitIndex].options
        let padded = paddedScenarioCount
        return withAggregationScratch { total, bucket in
            exposure.optionHoldings.withUnsafeBufferPointer { all in
                _ = ScenarioAggregation.aggregate(book: self, holdings: UnsafeBufferPointer(rebasing: all[options]), deltaOneNotional: 0,
                                                  total: total, bucket: bucket)
            }
            // Padding lanes hold 0, which the floor at 0 absorbs.
            let lanes = DoubleLanes.scalarCount
            var worst = DoubleLanes.zero
            var offset = 0
            while offset < padded {
                worst = VectorMath.minimum(worst, ScenarioAggregation.load(total.baseAddress! + offset))
                offset += lanes
            }
            var minimum = worst[0]
            for lane in 1..<lanes { minimum = Swift.min(minimum, worst[lane]) }
            return minimum
        }
    }
}
