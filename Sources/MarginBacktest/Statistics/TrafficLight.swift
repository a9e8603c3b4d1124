/// The Basel traffic-light zones of a backtest.
public enum TrafficLightZone: String, Sendable, Hashable, CaseIterable, Codable {
    case green, yellow, red
}

/// The Basel Committee's traffic-light classification of an exception count.
///
/// Source: Basel Committee on Banking Supervision (1996), "Supervisory framework for the use of
/// 'backtesting' in conjunction with the internal models approach to market risk capital
/// requirements" (bcbs22), Table 1 and §§ 26–30. The zone follows from the cumulative binomial
/// probability `P(X ≤ x)` of the observed exception count `x`, for `X ~ Bin(T, p)` with the actual
/// number of observations `T` and the coverage probability `p = 1 − confidence`:
///
/// - green when `P(X ≤ x) < 0.95`,
/// - yellow when `0.95 ≤ P(X ≤ x) < 0.9999`,
/// - red when `P(X ≤ x) ≥ 0.9999`.
///
/// For 250 observations at 99 % this gives green for 0–4 exceptions, yellow for 5–9 and red from
/// 10 (the paper's table). Encoded as `{"zone", "cumulative_probability"}`.
public struct TrafficLight: Sendable, Hashable, Codable {
    /// Lower bound of the yellow zone on the cumulative probability.
    public static let yellowThreshold = 0.95
    /// Lower bound of the red zone on the cumulative probability.
    public static let redThreshold = 0.9999

    public var zone: TrafficLightZone
    /// `P(X ≤ exceptions)` under correct coverage, in `[0, 1]`.
    public var cumulativeProbability: Double

    enum CodingKeys: String, CodingKey {
        case zone
        case cumulativeProbability = "cumulative_probability"
    }

    public init(zone: TrafficLightZone, cumulativeProbability: Double) {
        self.zone = zone
        self.cumulativeProbability = cumulativeProbability
    }

    /// The zone of `exceptions` out of `observations` at coverage probability `probability`.
    ///
    /// Zero exceptions is always green: on short samples `(1 − p)^T` itself can exceed 0.95
    /// (e.g. 5 days at 99 %), and the paper's zones always start with zero exceptions in green.
    /// No observations therefore gives green with cumulative probability 1 (`P(X ≤ 0) = 1` for
    /// `T = 0`). `probability` must lie strictly between 0 and 1.
    public init(observations: Int, exceptions: Int, probability: Double) {
        precondition(probability > 0 && probability < 1, "coverage probability must be in (0, 1)")
        precondition(observations >= 0 && exceptions >= 0 && exceptions <= observations,
                     "need 0 ≤ exceptions ≤ observations")
        let cumulative = Binomial.cdf(exceptions, trials: observations, probability: probability)
        self.init(zone: exceptions == 0 ? .green : Self.zone(cumulativeProbability: cumulative),
                  cumulativeProbability: cumulative)
    }

    /// The zone of a cumulative probability by the thresholds above.
    public static func zone(cumulativeProbability: Double) -> TrafficLightZone {
        if cumulativeProbability < yellowThreshold { return .green }
        if cumulativeProbability < redThreshold { return .yellow }
        return .red
    }
}
