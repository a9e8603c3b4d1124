/// Value at risk and expected shortfall of a scenario PnL vector, by partial selection of the
/// tail (no sort of all scenarios, no allocation when the caller supplies the tail buffer).
///
/// With N equally likely scenarios and confidence α, the tail is the `k = ⌈N·(1 − α)⌉` worst
/// PnLs (at least one). VaR is the loss of the k-th worst, ES the mean loss of the k worst
/// (the discrete estimator of Acerbi & Tasche 2002 with k whole scenarios). Losses are positive:
/// `loss = −PnL`; both are floored at 0 by the callers that turn them into margin.
public enum TailMeasure {
    public static func tailCount(scenarios: Int, confidence: Double) -> Int {
        guard scenarios > 0 else { return 0 }
        let raw = (Double(scenarios) * (1 - confidence) - 1e-9).rounded(.up)
        return min(scenarios, max(1, Int(raw)))
    }

    /// The indices of the `tail.count` smallest values of `pnl`, worst first, written into `tail`.
    /// Ties keep the lower index first, so the selection is deterministic.
    @inlinable
    public static func selectTail(_ pnl: UnsafeBufferPointer<Double>, into tail: UnsafeMutableBufferPointer<Int>) {
        let k = tail.count
        guard k > 0 else { return }
        var filled = 0
        for index in 0..<pnl.count {
            let value = pnl[index]
            if filled == k {
                // Not worse than the best of the kept tail: skip (the common case).
                if value >= pnl[tail[k - 1]] { continue }
            } else {
                filled += 1
            }
            // Insertion into the sorted tail (worst first).
            var position = filled - 1
            while position > 0, pnl[tail[position - 1]] > value {
                tail[position] = tail[position - 1]
                position -= 1
            }
            tail[position] = index
        }
    }

    /// VaR and ES (losses, valuation units) of `pnl` at `confidence`, and the tail indices, worst first.
    public static func measure(_ pnl: [Double], confidence: Double) -> (valueAtRisk: Double, expectedShortfall: Double, tail: [Int]) {
        let k = tailCount(scenarios: pnl.count, confidence: confidence)
        guard k > 0 else { return (0, 0, []) }
        var tail = [Int](repeating: 0, count: k)
        pnl.withUnsafeBufferPointer { values in
            tail.withUnsafeMutableBufferPointer { selectTail(values, into: $0) }
        }
        var sum = 0.0
        for index in tail { sum += pnl[index] }
        return (-pnl[tail[k - 1]], -sum / Double(k), tail)
    }

    /// Standard error of the ES estimate from N independent draws (Monte Carlo), after Manistre &
    /// Hancock (2005), "Variance of the CTE estimator", North American Actuarial Journal 9(2):
    /// `Var(ES) ≈ [Var(L | L ≥ VaR) + α·(ES − VaR)²] / (N·(1 − α))`.
    public static func expectedShortfallStandardError(_ pnl: [Double], confidence: Double) -> Double {
        let (valueAtRisk, es, tail) = measure(pnl, confidence: confidence)
        guard tail.count > 1, !pnl.isEmpty else { return 0 }
        var variance = 0.0
        for index in tail {
            let d = -pnl[index] - es
            variance += d * d
        }
        variance /= Double(tail.count - 1)
        let n = Double(pnl.count)
        let total = (variance + confidence * (es - valueAtRisk) * (es - valueAtRisk)) / (n * (1 - confidence))
        return total.squareRoot()
    }
}
