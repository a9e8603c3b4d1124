import MarginBacktest

/// Deterministic synthetic backtest series for the tests (no MarginCore: a random walk margin and
/// heavy-ish tailed losses from a fixed linear congruential generator).
enum SyntheticSeries {
    /// `count` ascending `YYYY-MM-DD` days from 2015-01-01 (every month has 28 days here: the
    /// report only needs ordered labels).
    static func dates(_ count: Int) -> [String] {
        (0..<count).map { day in
            let year = 2015 + day / 336, month = day % 336 / 28 + 1, dom = day % 28 + 1
            return "\(year)-\(month < 10 ? "0" : "")\(month)-\(dom < 10 ? "0" : "")\(dom)"
        }
    }

    /// A series whose losses exceed the margin on roughly `breachRate` of the days.
    static func make(portfolio: String, measure: BacktestSeries.Measure, days: Int, seed: UInt64,
                     breachRate: Double = 0.01, withoutAPC: Bool = false) -> BacktestSeries {
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        var level = 1_000_000.0
        var margin = [Double](), raw = [Double](), loss = [Double]()
        for _ in 0..<days {
            level *= 1 + 0.02 * (uniform() - 0.5)
            let shock = uniform()
            margin.append(level)
            raw.append(level * (0.8 + 0.5 * uniform()))
            // Exceptions with probability breachRate, otherwise a loss (or gain) inside the margin.
            loss.append(shock < breachRate ? level * (1 + uniform()) : level * (1.6 * uniform() - 0.8))
        }
        return BacktestSeries(portfolio: portfolio, measure: measure, dates: dates(days), margin: margin,
                              marginWithoutAPC: withoutAPC ? raw : nil, realisedLoss: loss)
    }
}
