/// When the periodic full refresh (`refresh_interval_ms`) republishes each shard: partition `p` of
/// `P` at the times `k·interval + (p mod P)·interval/P` (Unix ms), so that each tick republishes a
/// slice of the accounts instead of every account at once once per interval. All at once, the
/// refresh was a burst of every account's full result in one batch: a latency spike for that tick
/// and the process's memory high-water mark (its encoded records alone are several KB per account).
/// Every account is still republished once per interval.
enum RefreshSchedule {
    /// The partitions among `partitions` whose refresh time falls in `(from, to]` (Unix ms), out of
    /// `partitionCount` partitions of the accounts topic; none when `intervalMs` is not positive.
    static func due(_ partitions: some Sequence<Int32>, partitionCount: Int, intervalMs: Int64, from: Int64, to: Int64) -> Set<Int32> {
        guard intervalMs > 0, to > from else { return [] }
        let count = Int64(max(partitionCount, 1))
        var due = Set<Int32>()
        for partition in partitions {
            let offset = (Int64(partition) % count) * intervalMs / count
            if periods(to - offset, intervalMs) > periods(from - offset, intervalMs) { due.insert(partition) }
        }
        return due
    }

    /// Whole periods in `time` (rounded down, also for negative times).
    private static func periods(_ time: Int64, _ interval: Int64) -> Int64 {
        time >= 0 ? time / interval : -((-time + interval - 1) / interval)
    }
}
