/// What a backtest measured: per portfolio and margin measure, the daily margin against the
/// realised loss of the frozen portfolio over the margin horizon.
///
/// Units: margins and losses are in the valuation asset (USD-like); a loss is positive, a gain
/// negative. `margin[i]` is the requirement computed on `dates[i]` with data up to that day only;
/// `realisedLoss[i]` is the loss of the same positions from `dates[i]` to `dates[i] + horizon`.
/// An exception is `realisedLoss[i] > margin[i]`.
public struct BacktestSeries: Sendable, Hashable {
    public enum Measure: String, Sendable, Hashable, CaseIterable, Codable {
        /// Initial margin (the whole requirement, grid and FHS combined, with contingencies).
        case im
        /// Maintenance margin.
        case mm
        /// The filtered-historical-simulation loss alone (ES or VaR at the configured confidence).
        case fhs
        /// The scenario-grid loss alone.
        case grid
    }

    public var portfolio: String
    public var measure: Measure
    /// UTC days, `YYYY-MM-DD`, ascending.
    public var dates: [String]
    /// The margin (positive) on each day.
    public var margin: [Double]
    /// The same margin calibrated without anti-procyclicality measures, when the run computed it.
    public var marginWithoutAPC: [Double]?
    /// The realised loss over the horizon starting that day (positive = loss).
    public var realisedLoss: [Double]
    /// The portfolio's gross notional that day: Σ |contracts| × index (empty when unknown).
    public var notional: [Double]

    public init(portfolio: String, measure: Measure, dates: [String], margin: [Double],
                marginWithoutAPC: [Double]? = nil, realisedLoss: [Double], notional: [Double] = []) {
        self.portfolio = portfolio
        self.measure = measure
        self.dates = dates
        self.margin = margin
        self.marginWithoutAPC = marginWithoutAPC
        self.realisedLoss = realisedLoss
        self.notional = notional
    }

    /// Whether the realised loss exceeded the margin, per day.
    public var exceptions: [Bool] {
        zip(realisedLoss, margin).map { $0 > $1 }
    }
}
