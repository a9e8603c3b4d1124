/// The backtest statistics of one portfolio and margin measure.
///
/// Encoded as
///
///     {"name", "measure", "observations", "exceptions", "coverage",
///      "kupiec": {"lr", "p"},
///      "christoffersen": {"lr_ind", "p_ind", "lr_cc", "p_cc"},
///      "traffic_light": {"zone", "cumulative_probability"},
///      "procyclicality": {"peak_to_trough", "max_increase_1d", "max_increase_5d", "max_increase_10d", "max_increase_30d"},
///      "procyclicality_without_apc": {…},           // only when the run computed it
///      "efficiency": {"mean_margin_pct_notional", "margin_over_q99_loss", "breach_loss_to_margin_mean",
///                     "breach_loss_to_margin_max", "apc_cost"}}
///
/// Every number is finite. Undefined statistics are reported as "no evidence against the model":
/// with no observation, `coverage` is 1, Kupiec and Christoffersen give `lr = 0`, `p = 1`, the
/// traffic light is green with cumulative probability 1; procyclicality of a path without a
/// positive margin is a peak-to-trough of 1 and increases of 0; efficiency figures without a day,
/// a tail or an exception to compute them from are 0 (see each statistic's type).
public struct PortfolioBacktest: Sendable, Hashable, Codable {
    /// The portfolio's name.
    public var name: String
    public var measure: BacktestSeries.Measure
    /// Days with both a margin and a realised loss (see `BacktestSeries.observedDays`).
    public var observations: Int
    /// Observed days whose realised loss exceeded the margin.
    public var exceptions: Int
    /// `1 − exceptions / observations`, the realised coverage (1 with no observation).
    public var coverage: Double
    /// Kupiec's proportion-of-failures test.
    public var kupiec: KupiecTest
    /// Christoffersen's independence and conditional-coverage tests.
    public var christoffersen: ChristoffersenTest
    /// The Basel traffic light.
    public var trafficLight: TrafficLight
    /// Procyclicality of the margin path (all days with a finite margin, observed or not).
    public var procyclicality: ProcyclicalityMetrics
    /// Procyclicality of the margin without anti-procyclicality measures, when it was computed.
    public var procyclicalityWithoutAPC: ProcyclicalityMetrics?
    /// Capital efficiency: margin against notional, against the realised tail, breach sizes, APC cost.
    public var efficiency: EfficiencyMetrics

    enum CodingKeys: String, CodingKey {
        case name, measure, observations, exceptions, coverage, kupiec, christoffersen
        case trafficLight = "traffic_light"
        case procyclicality
        case procyclicalityWithoutAPC = "procyclicality_without_apc"
        case efficiency
    }

    public init(name: String, measure: BacktestSeries.Measure, observations: Int, exceptions: Int,
                coverage: Double, kupiec: KupiecTest, christoffersen: ChristoffersenTest,
                trafficLight: TrafficLight, procyclicality: ProcyclicalityMetrics,
                procyclicalityWithoutAPC: ProcyclicalityMetrics? = nil,
                efficiency: EfficiencyMetrics = EfficiencyMetrics(margin: [], realisedLoss: [], notional: [], marginWithoutAPC: nil)) {
        self.name = name
        self.measure = measure
        self.observations = observations
        self.exceptions = exceptions
        self.coverage = coverage
        self.kupiec = kupiec
        self.christoffersen = christoffersen
        self.trafficLight = trafficLight
        self.procyclicality = procyclicality
        self.procyclicalityWithoutAPC = procyclicalityWithoutAPC
        self.efficiency = efficiency
    }

    /// Computes every statistic of `series` for a margin at `confidence` (e.g. 0.99, so the
    /// coverage probability — the expected exception rate — is `1 − confidence`).
    ///
    /// `confidence` must lie strictly between 0 and 1.
    public init(series: BacktestSeries, confidence: Double) {
        precondition(confidence > 0 && confidence < 1, "confidence must be in (0, 1), got \(confidence)")
        let probability = 1 - confidence
        let sequence = series.observedExceptions
        let observations = sequence.count
        let exceptions = sequence.count(where: { $0 })
        let kupiec = KupiecTest(observations: observations, exceptions: exceptions, probability: probability)
        self.init(
            name: series.portfolio,
            measure: series.measure,
            observations: observations,
            exceptions: exceptions,
            coverage: observations > 0 ? 1 - Double(exceptions) / Double(observations) : 1,
            kupiec: kupiec,
            christoffersen: ChristoffersenTest(transitions: TransitionCounts(sequence), proportionOfFailures: kupiec),
            trafficLight: TrafficLight(observations: observations, exceptions: exceptions, probability: probability),
            procyclicality: ProcyclicalityMetrics(margin: series.margin),
            procyclicalityWithoutAPC: series.marginWithoutAPC.map { ProcyclicalityMetrics(margin: $0) },
            efficiency: EfficiencyMetrics(margin: series.margin, realisedLoss: series.realisedLoss, notional: series.notional,
                                          marginWithoutAPC: series.marginWithoutAPC))
    }

    /// The numbers of the result with their JSON paths, for validation.
    var numbers: [(path: String, value: Double)] {
        var list: [(String, Double)] = [
            ("coverage", coverage), ("kupiec.lr", kupiec.lr), ("kupiec.p", kupiec.p),
            ("christoffersen.lr_ind", christoffersen.lrIndependence),
            ("christoffersen.p_ind", christoffersen.pIndependence),
            ("christoffersen.lr_cc", christoffersen.lrConditionalCoverage),
            ("christoffersen.p_cc", christoffersen.pConditionalCoverage),
            ("traffic_light.cumulative_probability", trafficLight.cumulativeProbability),
        ]
        for (key, metrics) in [("procyclicality", procyclicality), ("procyclicality_without_apc", procyclicalityWithoutAPC)] {
            guard let metrics else { continue }
            list += [("\(key).peak_to_trough", metrics.peakToTrough),
                     ("\(key).max_increase_1d", metrics.maxIncrease1d),
                     ("\(key).max_increase_5d", metrics.maxIncrease5d),
                     ("\(key).max_increase_10d", metrics.maxIncrease10d),
                     ("\(key).max_increase_30d", metrics.maxIncrease30d)]
        }
        list += efficiency.numbers.map { ("efficiency.\($0.path)", $0.value) }
        return list
    }
}
