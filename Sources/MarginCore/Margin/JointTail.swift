/// The tail of an account's joint scenario columns (FHS or Monte Carlo): each scenario's worst
/// volatility column, then VaR and ES of those PnLs (``TailMeasure``). One rule for the account
/// combination (``MarginCalculator/combine(_:joint:layout:explain:)``) and for the risk book's
/// per-exposure tables (``SingleExposureTable``).
struct JointTail {
    /// Joint scenarios, volatility columns per scenario and the tail size `k`.
    var scenarioCount: Int
    var columnsPerScenario: Int
    var tailCount: Int

    init(scenarioCount: Int, columnsPerScenario: Int, tailCount: Int) {
        self.scenarioCount = scenarioCount
        self.columnsPerScenario = columnsPerScenario
        self.tailCount = tailCount
    }

    init(_ set: HistoricalScenarioSet) {
        self.init(scenarioCount: set.scenarioCount, columnsPerScenario: set.columnsPerScenario, tailCount: set.tailCount)
    }

    /// Compresses `columns[base...]` in place: scenario `s`'s worst volatility column (columns are
    /// volatility-major, `base + v·scenarioCount + s`) goes to `columns[base + s]`; `variants[s]`
    /// (when given) gets which column it was.
    @inline(__always)
    func compress(_ columns: UnsafeMutableBufferPointer<Double>, base: Int, variants: UnsafeMutableBufferPointer<Int>?) {
        let count = scenarioCount
        guard columnsPerScenario > 1 else { return }
        let out = columns.baseAddress! + base
        if variants == nil {
            // The hot path: an element-wise SIMD minimum of contiguous runs.
            let lanes = DoubleLanes.scalarCount
            for variant in 1..<columnsPerScenario {
                let run = UnsafePointer(out + variant * count)
                var scenario = 0
                while scenario + lanes <= count {
                    let worst = VectorMath.minimum(ScenarioAggregation.load(out + scenario), ScenarioAggregation.load(run + scenario))
                    ScenarioAggregation.store(worst, out + scenario)
                    scenario += lanes
                }
                while scenario < count {
                    out[scenario] = Swift.min(out[scenario], run[scenario])
                    scenario += 1
                }
            }
            return
        }
        for variant in 1..<columnsPerScenario {
            for scenario in 0..<count where out[variant * count + scenario] < out[scenario] {
                out[scenario] = out[variant * count + scenario]
                variants?[scenario] = variant
            }
        }
    }

    /// VaR and ES (losses, valuation units) of the scenario PnLs `pnl`, the tail (worst first)
    /// written into `tail` (`tailCount` elements).
    @inline(__always)
    func measure(_ pnl: UnsafeBufferPointer<Double>, tail: UnsafeMutableBufferPointer<Int>) -> (valueAtRisk: Double, expectedShortfall: Double) {
        let k = tailCount
        TailMeasure.selectTail(pnl, into: tail)
        var sum = 0.0
        for index in tail { sum += pnl[index] }
        return (-pnl[tail[k - 1]], -sum / Double(k))
    }

    /// Compresses and measures without keeping the tail (stack scratch for it).
    @inline(__always)
    func measure(compressing columns: UnsafeMutableBufferPointer<Double>, base: Int) -> (valueAtRisk: Double, expectedShortfall: Double) {
        compress(columns, base: base, variants: nil)
        let pnl = UnsafeBufferPointer(rebasing: columns[base..<(base + scenarioCount)])
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: tailCount) { measure(pnl, tail: $0) }
    }
}

/// What a risk book's per-exposure table says of a unit's joint tail (``SingleExposureTable``).
enum JointTailFigure {
    /// VaR and ES, exactly (a single option or a delta-one-only unit).
    case measured(valueAtRisk: Double, expectedShortfall: Double)
    /// An upper bound of ES (and so of VaR) that is at most the unit's grid loss.
    case atMost(Double)
}
