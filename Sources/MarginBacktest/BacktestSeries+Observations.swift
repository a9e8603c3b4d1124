extension BacktestSeries {
    /// The days that count as observations: both the margin and the realised loss are finite.
    ///
    /// Days without a realised loss (e.g. the last `horizon` days, whose future is not yet known,
    /// recorded as NaN) or without a margin are left out of every statistic. Arrays of different
    /// lengths are compared over their common prefix.
    public var observedDays: [Int] {
        let count = min(margin.count, realisedLoss.count)
        return (0..<count).filter { margin[$0].isFinite && realisedLoss[$0].isFinite }
    }

    /// The exception indicator (`realisedLoss > margin`) on the observed days, in date order.
    public var observedExceptions: [Bool] {
        observedDays.map { realisedLoss[$0] > margin[$0] }
    }
}
