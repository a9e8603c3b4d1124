/// Joint scenarios of the dynamic risk model: one h-day log return per underlying per scenario,
/// the same scenario index meaning the same historical date (or the same Monte Carlo draw) for
/// every underlying, so that the correlation of the source is carried into the margin.
///
/// Each scenario moves the index, every forward and the perpetual mark of an underlying by
/// `e^{r}`; options are fully revalued in the extra columns of the risk book.
public struct HistoricalScenarioSet: Sendable, Hashable {
    public enum Source: String, Sendable, Hashable, CaseIterable {
        /// Filtered historical simulation: one scenario per historical date.
        case historical
        /// Monte Carlo draws (filtered bootstrap or multivariate Student-t).
        case monteCarlo = "monte_carlo"
    }

    /// Which tail statistic of the scenario PnL distribution is the loss.
    public enum Measure: String, Sendable, Hashable, CaseIterable {
        /// Expected shortfall: the mean loss of the worst `⌈N·(1−α)⌉` scenarios.
        case expectedShortfall = "es"
        /// Value at risk: the `⌈N·(1−α)⌉`-th worst loss.
        case valueAtRisk = "var"
    }

    /// How an option's volatility moves in a scenario when the source has no volatility data.
    public enum VolatilityTreatment: String, Sendable, Hashable, CaseIterable {
        /// Evaluate the grid's vol-up, unchanged and vol-down shocks with the scenario's price move
        /// and keep the worst for the account (three columns per scenario). The default.
        case worstOfGrid = "worst_of_grid"
        /// Volatility unchanged (one column per scenario).
        case none
    }

    /// How the scenario-set loss combines with the grid loss.
    public enum Combination: Sendable, Hashable {
        /// `risk_loss = max(grid_loss, fhs_loss)`. The default.
        case maximum
        /// `risk_loss = x·fhs_loss + (1 − x)·grid_loss` (SPAN 2 style blend), x in [0, 1].
        case weighted(Double)
    }

    public var source: Source
    public var measure: Measure
    /// Confidence α in (0.5, 1), e.g. 0.99.
    public var confidence: Double
    public var horizonDays: Int
    public var volatilityTreatment: VolatilityTreatment
    public var combination: Combination
    /// One label per scenario: the UTC date `YYYY-MM-DD` the h-day window starts on, or `mc-N`.
    public var labels: [String]
    /// Per underlying, one h-day log return per scenario.
    public var logReturns: [String: [Double]]
    /// Per underlying whose history has implied volatility, the ATM volatility's relative change over
    /// each scenario's window (`vol(end)/vol(start)`); such an underlying's options are revalued at
    /// their volatility × that multiplier in every column of the scenario, instead of the
    /// volatility treatment.
    public var volatilityMultipliers: [String: [Double]]

    public init(source: Source = .historical, measure: Measure = .expectedShortfall, confidence: Double = 0.99, horizonDays: Int = 2,
                volatilityTreatment: VolatilityTreatment = .worstOfGrid, combination: Combination = .maximum,
                labels: [String], logReturns: [String: [Double]], volatilityMultipliers: [String: [Double]] = [:]) {
        self.source = source
        self.measure = measure
        self.confidence = confidence
        self.horizonDays = horizonDays
        self.volatilityTreatment = volatilityTreatment
        self.combination = combination
        self.labels = labels
        self.logReturns = logReturns
        self.volatilityMultipliers = volatilityMultipliers
    }

    public var scenarioCount: Int { labels.count }

    /// Risk-book columns per scenario (3 for ``VolatilityTreatment/worstOfGrid``, else 1).
    public var columnsPerScenario: Int { volatilityTreatment == .worstOfGrid ? 3 : 1 }

    /// The number of worst scenarios that make the tail: `⌈N·(1 − α)⌉`, at least 1.
    public var tailCount: Int { TailMeasure.tailCount(scenarios: scenarioCount, confidence: confidence) }

    /// The risk-book scenarios (extra columns) for `underlying`, or none when the set has no
    /// returns for it. Volatility-major: column `v·scenarioCount + s` holds scenario `s` with
    /// volatility shock `v` (up, none, down for the worst-of-grid treatment), so that an account's
    /// worst column per scenario is an element-wise minimum of contiguous runs (``JointTail``).
    public func bookScenarios(for underlying: String) -> [Scenario] {
        guard let returns = logReturns[underlying] else { return [] }
        let shocks: [Scenario.VolatilityShock] = volatilityTreatment == .worstOfGrid ? [.up, .none, .down] : [.none]
        let multipliers = volatilityMultipliers[underlying]
        var result: [Scenario] = []
        result.reserveCapacity(returns.count * shocks.count)
        for shock in shocks {
            for (index, r) in returns.enumerated() {
                let spot = CMath.exp(r)
                if let multipliers {
                    // The history's own vol move, in every column (the layout stays uniform across underlyings).
                    result.append(Scenario(spotShock: spot, volatilityShock: .none, dampening: 1, kind: .historical, volatilityScale: multipliers[index]))
                } else {
                    result.append(Scenario(spotShock: spot, volatilityShock: shock, dampening: 1, kind: .historical))
                }
            }
        }
        return result
    }

    /// Refuses sets that cannot be used: empty, misaligned, non-finite or absurd returns.
    public func validate() throws(MarginError) {
        let field = "params.historical_simulation"
        guard !labels.isEmpty else { throw .invalidInput(field: "\(field).labels", reason: "must not be empty") }
        guard !logReturns.isEmpty else { throw .invalidInput(field: "\(field).log_returns", reason: "must name at least one underlying") }
        guard confidence.isFinite, confidence > 0.5, confidence < 1 else {
            throw .invalidInput(field: "\(field).confidence", reason: "must lie in (0.5, 1), got \(confidence)")
        }
        guard horizonDays >= 1, horizonDays <= 30 else { throw .invalidInput(field: "\(field).horizon_days", reason: "must lie in [1, 30], got \(horizonDays)") }
        if case .weighted(let x) = combination, !(x.isFinite && x >= 0 && x <= 1) {
            throw .invalidInput(field: "\(field).fhs_weight", reason: "must lie in [0, 1], got \(x)")
        }
        for (underlying, returns) in logReturns {
            guard returns.count == labels.count else {
                throw .invalidInput(field: "\(field).log_returns[\(underlying)]", reason: "\(returns.count) returns for \(labels.count) scenarios")
            }
            for (index, r) in returns.enumerated() where !(r.isFinite && abs(r) <= 5) {
                throw .invalidInput(field: "\(field).log_returns[\(underlying)][\(index)]", reason: "must be a finite log return in [−5, 5], got \(r)")
            }
        }
        for (underlying, multipliers) in volatilityMultipliers {
            guard logReturns[underlying] != nil, multipliers.count == labels.count else {
                throw .invalidInput(field: "\(field).volatility_multipliers[\(underlying)]", reason: "\(multipliers.count) values for \(labels.count) scenarios of an underlying with returns")
            }
            for (index, m) in multipliers.enumerated() where !(m.isFinite && m >= 0.05 && m <= 20) {
                throw .invalidInput(field: "\(field).volatility_multipliers[\(underlying)][\(index)]", reason: "must lie in [0.05, 20], got \(m)")
            }
        }
    }
}
