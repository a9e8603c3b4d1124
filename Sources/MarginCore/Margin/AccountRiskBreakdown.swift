/// How an account's risk loss is made: the grid across its underlyings (with the decorrelation
/// factor) and, when the parameter set has one, the joint scenario set's tail measure.
///
/// All amounts are positive losses in valuation units, except scenario PnLs (negative = loss).
/// - `gridSum = Σ_u worst_u` (each unit on its own worst scenario or basis contingency);
/// - `gridJoint = max(0, −min(min_s Σ_u PnL_u(s), Σ_u basis_u))`, the same grid scenario in every
///   unit (equal to `gridSum` when the units' grids do not align or there is one unit);
/// - `gridLoss = d·gridSum + (1 − d)·gridJoint`;
/// - `riskLoss = max(gridLoss, historicalLoss)` or `x·historicalLoss + (1 − x)·gridLoss`.
/// The risk loss is allocated to units in proportion to their standalone `worst_u` (evenly when
/// all are 0), and each unit's MM/IM factor applies to its share.
public struct AccountRiskBreakdown: Sendable, Hashable {
    /// What sets the risk loss.
    public enum Binding: String, Sendable, Hashable {
        /// The grid: each underlying's worst scenario (d = 1 or one unit).
        case grid
        /// The grid with correlation: the decorrelated mix of the sum and the joint term.
        case gridCorrelated = "grid_correlated"
        /// The joint historical (or Monte Carlo) scenario set's tail measure.
        case historical
        /// A weighted blend of the two.
        case blend
        /// Nothing loses.
        case none
    }

    /// One of the worst joint scenarios: its label (date or draw) and the account's PnL in it.
    public struct ScenarioPnL: Sendable, Hashable {
        public var label: String
        public var pnl: Double
    }

    /// The joint scenario set's part.
    public struct Historical: Sendable, Hashable {
        public var source: HistoricalScenarioSet.Source
        public var measure: HistoricalScenarioSet.Measure
        public var confidence: Double
        public var horizonDays: Int
        public var scenarioCount: Int
        public var valueAtRisk: Double
        public var expectedShortfall: Double
        /// The measure's loss, floored at 0, plus the grid loss of underlyings the set has no
        /// returns for (`uncoveredUnderlyings`).
        public var loss: Double
        /// Monte Carlo standard error of the ES estimate (0 for historical scenarios).
        public var standardError: Double
        /// The ten worst joint scenarios, worst first.
        public var worstScenarios: [ScenarioPnL]
        /// Each position's PnL averaged over the tail scenarios (for VaR: in the VaR scenario);
        /// they sum to `−expectedShortfall` (resp. `−valueAtRisk`).
        public var contributions: [PositionContribution]
        public var uncoveredUnderlyings: [String]
    }

    public var gridSum: Double
    public var gridJoint: Double
    public var decorrelation: Double
    public var gridLoss: Double
    public var historical: Historical?
    public var riskLoss: Double
    public var binding: Binding

    /// Deribit's correlation contingency in this model: the part of the cross-underlying offset
    /// the grid does not credit, `gridLoss − gridJoint = d·(gridSum − gridJoint)` (0 for one
    /// underlying or d = 0). It is inside `gridLoss`, not added to it.
    public var correlationContingency: Double { max(0, gridLoss - gridJoint) }
}
