/// How much a margin path swings: measures of procyclicality in the spirit of CPMI-IOSCO's
/// *Principles for Financial Market Infrastructures* (2012), Principle 6, and EMIR RTS 153/2013
/// Art. 28 (anti-procyclicality): the peak-to-trough ratio and the largest relative increases over
/// short windows. Encoded as `{"peak_to_trough", "max_increase_1d", "max_increase_5d",
/// "max_increase_10d", "max_increase_30d"}`.
///
/// Windows are counted in observations of the path (one per day of the backtest), not calendar
/// days. Increases are fractions (0.25 = +25 %).
public struct ProcyclicalityMetrics: Sendable, Hashable, Codable {
    /// `max m / min m` over the strictly positive margins of the period (≥ 1).
    ///
    /// Zero, negative and non-finite margins are ignored (a zero margin has no ratio: an account
    /// that goes flat would otherwise report infinity). With no positive margin at all it is 1.
    public var peakToTrough: Double
    /// `max over t of m[t+1]/m[t] − 1`, over `m[t] > 0`; 0 when the margin never increases.
    public var maxIncrease1d: Double
    /// The same over 5 observations.
    public var maxIncrease5d: Double
    /// The same over 10 observations (the CCP margin-period window Eurex reports).
    public var maxIncrease10d: Double
    /// The same over 30 observations.
    public var maxIncrease30d: Double

    enum CodingKeys: String, CodingKey {
        case peakToTrough = "peak_to_trough"
        case maxIncrease1d = "max_increase_1d"
        case maxIncrease5d = "max_increase_5d"
        case maxIncrease10d = "max_increase_10d"
        case maxIncrease30d = "max_increase_30d"
    }

    public init(peakToTrough: Double, maxIncrease1d: Double, maxIncrease5d: Double, maxIncrease10d: Double, maxIncrease30d: Double) {
        self.peakToTrough = peakToTrough
        self.maxIncrease1d = maxIncrease1d
        self.maxIncrease5d = maxIncrease5d
        self.maxIncrease10d = maxIncrease10d
        self.maxIncrease30d = maxIncrease30d
    }

    /// The metrics of a margin path (valuation units, one value per day, ascending dates).
    public init(margin: [Double]) {
        self.init(peakToTrough: Self.peakToTrough(margin),
                  maxIncrease1d: Self.maxIncrease(margin, over: 1),
                  maxIncrease5d: Self.maxIncrease(margin, over: 5),
                  maxIncrease10d: Self.maxIncrease(margin, over: 10),
                  maxIncrease30d: Self.maxIncrease(margin, over: 30))
    }

    /// `max / min` over the strictly positive, finite margins; 1 when there is none.
    public static func peakToTrough(_ margin: [Double]) -> Double {
        let positive = margin.filter { $0.isFinite && $0 > 0 }
        guard let peak = positive.max(), let trough = positive.min() else { return 1 }
        let ratio = peak / trough
        // Only a path spanning more than ~308 orders of magnitude could overflow.
        return ratio.isFinite ? ratio : Double.greatestFiniteMagnitude
    }

    /// `max over t of m[t+n]/m[t] − 1` over finite `m[t] > 0` and finite `m[t+n]`; at least 0
    /// (0 when the path is shorter than `n + 1` or never increases over `n` observations).
    public static func maxIncrease(_ margin: [Double], over n: Int) -> Double {
        precondition(n > 0, "window must be positive")
        guard margin.count > n else { return 0 }
        var largest = 0.0
        for t in 0..<(margin.count - n) {
            let start = margin[t], end = margin[t + n]
            guard start.isFinite, start > 0, end.isFinite else { continue }
            largest = max(largest, end / start - 1)
        }
        return largest.isFinite ? largest : Double.greatestFiniteMagnitude
    }
}
