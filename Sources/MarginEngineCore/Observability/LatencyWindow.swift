/// The latest 2,048 re-margin pass latencies (ns), for the status line's percentiles.
struct LatencyWindow: Sendable {
    private var samples: [Int64] = []
    private var cursor = 0
    static let capacity = 2_048

    mutating func record(_ nanoseconds: Int64) {
        if samples.count < Self.capacity { samples.append(nanoseconds) } else { samples[cursor % Self.capacity] = nanoseconds }
        cursor += 1
    }

    /// The `q` quantile in milliseconds (0 without samples).
    func percentileMs(_ q: Double) -> Double {
        guard !samples.isEmpty else { return 0 }
        let sorted = samples.sorted()
        return Double(sorted[min(sorted.count - 1, Int(q * Double(sorted.count - 1)))]) / 1e6
    }
}
