/// Derivative-free minimisation by the Nelder–Mead simplex (Nelder & Mead 1965, "A simplex method
/// for function minimization", Computer Journal 7(4)), with the standard coefficients (reflection 1,
/// expansion 2, contraction ½, shrink ½) as in Lagarias et al. 1998. Deterministic: the same start
/// and function give the same result. Constraints are the caller's: return `+infinity` (or a large
/// penalty) outside the feasible region.
public enum NelderMead {
    public struct Result: Sendable, Hashable {
        public var point: [Double]
        public var value: Double
        public var iterations: Int
        /// Whether the simplex's values agreed to `tolerance` before `maxIterations`.
        public var converged: Bool
    }

    /// Minimises `f` from `start`, with initial steps `steps` per coordinate.
    public static func minimize(_ f: ([Double]) -> Double, start: [Double], steps: [Double], tolerance: Double = 1e-9,
                                maxIterations: Int = 5_000) -> Result {
        let n = start.count
        precondition(n > 0 && steps.count == n, "a start and one step per coordinate")
        var simplex: [[Double]] = [start]
        for i in 0..<n {
            var vertex = start
            vertex[i] += steps[i]
            simplex.append(vertex)
        }
        var values = simplex.map(f)
        var iterations = 0
        var converged = false
        while iterations < maxIterations {
            iterations += 1
            let order = values.indices.sorted { values[$0] < values[$1] }
            simplex = order.map { simplex[$0] }
            values = order.map { values[$0] }
            let spread = abs(values[n] - values[0])
            if spread <= tolerance * max(1, abs(values[0])) {
                converged = true
                break
            }
            var centroid = [Double](repeating: 0, count: n)
            for vertex in simplex[0..<n] { for i in 0..<n { centroid[i] += vertex[i] / Double(n) } }
            func along(_ t: Double) -> [Double] { (0..<n).map { centroid[$0] + t * (simplex[n][$0] - centroid[$0]) } }
            let reflected = along(-1)
            let fr = f(reflected)
            if fr < values[0] {
                let expanded = along(-2)
                let fe = f(expanded)
                if fe < fr { simplex[n] = expanded; values[n] = fe } else { simplex[n] = reflected; values[n] = fr }
            } else if fr < values[n - 1] {
                simplex[n] = reflected
                values[n] = fr
            } else {
                let outside = fr < values[n]
                let contracted = along(outside ? -0.5 : 0.5)
                let fc = f(contracted)
                if fc < (outside ? fr : values[n]) {
                    simplex[n] = contracted
                    values[n] = fc
                } else {
                    for j in 1...n {
                        simplex[j] = (0..<n).map { simplex[0][$0] + 0.5 * (simplex[j][$0] - simplex[0][$0]) }
                        values[j] = f(simplex[j])
                    }
                }
            }
        }
        let best = values.indices.min { values[$0] < values[$1] }!
        return Result(point: simplex[best], value: values[best], iterations: iterations, converged: converged)
    }
}
