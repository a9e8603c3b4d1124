extension RiskBook {
    /// Worst scenario PnL (≤ 0 is a loss, valuation units) of an account's *option* positions on
    /// this book's underlying: the bare aggregation over the risk arrays (per-expiry sums, static
    /// discount, dampening, skew sign), without delta-one positions or contingencies. This is the
    /// operation `margin-engine bench` times as `aggregation_ns_per_account`.
    public func worstOptionScenarioPnL(of exposure: AccountExposure) -> Double {
        guard let unitIndex = exposure.units.firstIndex(where: { $0.underlying == underlying }) else { return 0 }
        let padded = paddedScenarioCount
        let needed = padded + stride
        // A constant-size scratch (1 KiB) stays on the stack without the runtime's stack-size
        // check; larger grids take the general path.
        if needed <= Self.smallScratch {
            return withUnsafeTemporaryAllocation(of: Double.self, capacity: Self.smallScratch) { scratch in
                worst(unit: unitIndex, of: exposure, scratch: scratch, padded: padded)
            }
        }
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: needed) { scratch in
            worst(unit: unitIndex, of: exposure, scratch: scratch, padded: padded)
        }
    }

    static let smallScratch = 128

    @inline(__always)
    private func worst(unit unitIndex: Int, of exposure: AccountExposure, scratch: UnsafeMutableBufferPointer<Double>, padded: Int) -> Double {
        do {
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
            var minimum = worst[0]
            for lane in 1..<lanes { minimum = Swift.min(minimum, worst[lane]) }
            return minimum
        }
    }
}
