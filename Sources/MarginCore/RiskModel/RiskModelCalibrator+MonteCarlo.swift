extension RiskModelCalibrator {
    /// The Monte Carlo scenario generators (the second scenario source).
    public enum MonteCarloMethod: Sendable, Hashable {
        /// Whole devolatilised daily return vectors drawn with replacement (all underlyings on the
        /// same drawn date), h of them summed, revolatilised by today's applied σ
        /// (the filtered bootstrap of Barone-Adesi et al. 1999).
        case filteredBootstrap
        /// Multivariate Student-t with ν degrees of freedom and the correlation of the EWMA
        /// covariance of the common-day returns, the volatilities the applied σ (APC included),
        /// scaled to h days by √h.
        case studentT(degreesOfFreedom: Double)
    }

    /// Calibrates as ``calibrate(_:asOfDay:previous:)`` does, then replaces the historical scenarios
    /// by `count` seeded Monte Carlo draws. The same seed gives the same scenarios.
    public func calibrateMonteCarlo(_ history: JointHistory, method: MonteCarloMethod, count: Int = 10_000, seed: UInt64,
                                    asOfDay: Int? = nil, previous: [String: State] = [:]) throws(MarginError) -> Result {
        guard count >= 100, count <= 200_000 else { throw .invalidInput(field: "monte_carlo.count", reason: "must lie in [100, 200000], got \(count)") }
        var result = try calibrate(history, asOfDay: asOfDay, previous: previous)
        let s = settings
        let end = asOfDay.map { day in history.days.lastIndex { $0 <= day } ?? -1 } ?? history.days.count - 1
        let ewma = try EWMAVariance(lambda: s.lambda, seedCount: s.seedReturns)
        let names = history.underlyings
        // Each underlying filtered by the model the calibration fitted, on the common days where
        // every model is seeded (the bootstrap draws whole dates).
        let filtered = try filter(history, through: history.days[end], fits: result.fits)
        let indices = names.indices.map { u in (1...end).map { filtered[u].returnIndex(dated: history.days[$0]) ?? -1 } }
        let usable = (0..<end).filter { d in names.indices.allSatisfy { indices[$0][d] >= s.seedReturns } }
        guard !usable.isEmpty else { throw .invalidInput(field: "history", reason: "no common day after the seed returns") }
        var returns: [[Double]] = []
        var devolatilised: [[Double]] = []
        for u in names.indices {
            let f = filtered[u]
            returns.append(usable.map { f.returns[indices[u][$0]] })
            devolatilised.append(usable.map { f.returns[indices[u][$0]] / f.forecasts[indices[u][$0]].squareRoot() })
        }
        let applied = names.map { result.underlyings[$0]!.appliedVolatility }
        var generator = SeededGenerator(seed: seed)
        var draws = [[Double]](repeating: [Double](repeating: 0, count: count), count: names.count)
        let h = s.horizonDays
        switch method {
        case .filteredBootstrap:
            let available = devolatilised[0].count
            for n in 0..<count {
                for _ in 0..<h {
                    let date = Int.random(in: 0..<available, using: &generator)
                    for u in names.indices { draws[u][n] += devolatilised[u][date] * applied[u] }
                }
            }
        case .studentT(let nu):
            guard nu.isFinite, nu > 2, nu <= 1000 else { throw .invalidInput(field: "monte_carlo.degrees_of_freedom", reason: "must lie in (2, 1000], got \(nu)") }
            let k = names.count
            let covariance = ewma.covariance(returns)
            // Correlation of the EWMA covariance, rescaled to the applied volatilities.
            var target = [Double](repeating: 0, count: k * k)
            for i in 0..<k {
                for j in 0..<k {
                    let correlation = covariance[i * k + j] / (covariance[i * k + i] * covariance[j * k + j]).squareRoot()
                    target[i * k + j] = correlation * applied[i] * applied[j]
                }
            }
            let lower = try Self.cholesky(target, size: k)
            let scale = ((nu - 2) * Double(h)).squareRoot()
            var normals = [Double](repeating: 0, count: k)
            for n in 0..<count {
                for i in 0..<k { normals[i] = RandomVariates.standardNormal(using: &generator) }
                let chiSquare = 2 * RandomVariates.gamma(shape: nu / 2, using: &generator)
                let mix = scale / chiSquare.squareRoot()
                for i in 0..<k {
                    var x = 0.0
                    for j in 0...i { x += lower[i * k + j] * normals[j] }
                    // Log returns beyond ±5 (a factor of 150) are cut: they only come from the far tail of t.
                    draws[i][n] = min(5, max(-5, x * mix))
                }
            }
        }
        var logReturns: [String: [Double]] = [:]
        for (u, name) in names.enumerated() { logReturns[name] = draws[u] }
        result.scenarios.source = .monteCarlo
        result.scenarios.labels = (0..<count).map { "mc-\($0 + 1)" }
        result.scenarios.logReturns = logReturns
        // Draws have no implied-volatility path: the volatility treatment applies.
        result.scenarios.volatilityMultipliers = [:]
        return result
    }

    /// Lower Cholesky factor of a symmetric positive-definite row-major `size × size` matrix.
    static func cholesky(_ matrix: [Double], size n: Int) throws(MarginError) -> [Double] {
        var l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var sum = matrix[i * n + j]
                for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
                if i == j {
                    guard sum > 0 else { throw .numerical("covariance matrix is not positive definite") }
                    l[i * n + i] = sum.squareRoot()
                } else {
                    l[i * n + j] = sum / l[j * n + j]
                }
            }
        }
        return l
    }
}

/// Seeded random variates for the Monte Carlo source.
enum RandomVariates {
    /// Box–Muller (one of the pair; simplicity over speed, draws are not the hot path).
    static func standardNormal(using generator: inout SeededGenerator) -> Double {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &generator)
        let u2 = Double.random(in: 0..<1, using: &generator)
        return (-2 * CMath.log(u1)).squareRoot() * CMath.cos(2 * Double.pi * u2)
    }

    /// Gamma(shape, 1) by Marsaglia & Tsang (2000), "A simple method for generating gamma variables".
    static func gamma(shape: Double, using generator: inout SeededGenerator) -> Double {
        if shape < 1 {
            let u = Double.random(in: Double.ulpOfOne..<1, using: &generator)
            return gamma(shape: shape + 1, using: &generator) * CMath.pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x = 0.0, v = 0.0
            repeat {
                x = standardNormal(using: &generator)
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = Double.random(in: Double.ulpOfOne..<1, using: &generator)
            if CMath.log(u) < 0.5 * x * x + d - d * v + d * CMath.log(v) { return d * v }
        }
    }
}
