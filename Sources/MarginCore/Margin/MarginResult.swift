/// The health of an account against its requirements.
public enum HealthState: String, Sendable, Hashable, CaseIterable {
    /// Equity covers the initial requirement.
    case healthy
    /// Equity (with initial haircuts) is below the initial requirement but covers maintenance.
    case belowInitial = "below_im"
    /// Equity is below the maintenance requirement: the account must be reduced.
    case liquidatable
    /// Equity is negative: closing everything cannot pay the account's debts.
    case bankrupt
    /// A market the account depends on is stale; the numbers are the last computable ones and must
    /// not be acted upon. Set by the worker, never by the margin library.
    case stale
    /// The account cannot be margined (a market, expiry or parameter set it needs is missing, or an
    /// input is out of range); the result carries the reason instead of numbers. Set by the worker.
    case error
}

/// One contingency add-on. Amounts are positive requirements in valuation units; `initial` is the
/// whole IM charge (it includes the maintenance charge).
public struct ContingencyCharge: Sendable, Hashable {
    /// `short_option`, `delta_one_notional`, `oracle_confidence`, `collateral_confidence`,
    /// `liquidity`, `concentration`.
    public var name: String
    public var maintenance: Double
    public var initial: Double
    /// What was charged, e.g. `3 naked shorts × 9350 × 1%`.
    public var detail: String

    public init(name: String, maintenance: Double, initial: Double, detail: String) {
        self.name = name
        self.maintenance = maintenance
        self.initial = initial
        self.detail = detail
    }
}

/// A position's share of its risk unit's PnL at the binding scenario (valuation units; negative
/// is a loss). The contributions of a unit sum to the binding scenario's PnL.
public struct PositionContribution: Sendable, Hashable {
    /// Instrument name, or the asset name for a balance that moves with the underlying.
    public var name: String
    public var quantity: Double
    public var pnl: Double
}

/// Margin of one underlying (risk unit) of an account.
///
/// Sign conventions: scenario PnLs are signed (negative = loss); `worstLoss` and every requirement
/// are positive amounts in valuation units.
public struct RiskUnitMargin: Sendable, Hashable {
    public var underlying: String
    /// PnL under each scenario of the parameter set, after dampening and static discounting, and
    /// after the extended dampener and the gain credit (``ScenarioVectorAdjustment``) where they apply.
    public var scenarioPnLs: [Double]
    /// The same before the extended dampener and the gain credit (Deribit's pre-aggregated vector);
    /// empty when neither applies to the unit.
    public var unadjustedScenarioPnLs: [Double] = []
    /// The extended dampener and gain credit behind `scenarioPnLs` (nil when neither applies).
    public var adjustment: ScenarioVectorAdjustment? = nil
    /// The basis-contingency pseudo-scenario (≤ 0; 0 when the rule is off).
    public var basisContingency: Double
    /// Index of the binding scenario, or nil when the basis contingency binds (or nothing loses).
    public var bindingScenario: Int?
    /// Human label of what binds, e.g. `spot -16% vol up` or `basis contingency`.
    public var bindingLabel: String
    /// The unit's own worst grid loss (standalone, as if it were the only unit).
    public var worstLoss: Double
    /// The account's risk loss allocated to this unit (``AccountRiskBreakdown``); the factors apply
    /// to it. Equal to `worstLoss` for a single-unit account without a joint scenario set.
    public var allocatedLoss: Double
    public var maintenanceFactor: Double
    public var initialFactor: Double
    public var contingencies: [ContingencyCharge]
    public var maintenanceRequirement: Double
    public var initialRequirement: Double
    /// Mark-to-market of the unit's positions and linked balances (valuation units).
    public var markToMarket: Double
    public var contributions: [PositionContribution]
    /// Index price and its snapshot time the unit was margined at.
    public var indexPrice: Double
    public var marketTimestampMs: Int64
    /// Each instrument's liquidity and concentration add-ons with their inputs (empty when the
    /// unit's parameters enable neither); their totals are the `liquidity` and `concentration`
    /// contingencies.
    public var liquidityAddOns: [LiquidityAddOn] = []
}

/// One line of the equity: a balance or a position, at its current value.
public struct EquityComponent: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case balance, position
    }

    public var kind: Kind
    /// Asset or instrument name.
    public var name: String
    /// Balance amount or position quantity (contracts).
    public var quantity: Double
    /// USD price used (index for balances, mark for positions; for options the model price).
    public var price: Double
    /// Value in valuation units (for positions: unrealised PnL plus funding, or option value).
    public var value: Double
    /// Haircut amounts deducted for maintenance and for initial margin (valuation units, ≥ 0).
    public var maintenanceHaircut: Double
    public var initialHaircut: Double
}

/// The margin of one account with its full explanation.
///
/// Units: every amount is in `valuationAsset` units. Requirements are positive; equities may be
/// negative. `equity` is the mark-to-market value of balances and positions less maintenance
/// haircuts; `initialEquity` uses initial haircuts; `grossEquity` uses none.
public struct MarginResult: Sendable, Hashable {
    public var accountId: String
    public var accountVersion: UInt64
    public var parameterSetId: String
    public var parameterSetVersion: Int64
    public var valuationAsset: String
    /// The time the margin was computed for (Unix epoch ms).
    public var asOfMs: Int64
    public var grossEquity: Double
    public var equity: Double
    public var initialEquity: Double
    public var maintenanceRequirement: Double
    public var initialRequirement: Double
    public var health: HealthState
    public var riskUnits: [RiskUnitMargin]
    public var accountContingencies: [ContingencyCharge]
    public var equityComponents: [EquityComponent]
    /// How the units' grid losses and the joint scenario set combine into the account's risk loss.
    public var riskModel: AccountRiskBreakdown

    /// `equity − maintenanceRequirement`: negative means liquidatable.
    public var maintenanceSurplus: Double { equity - maintenanceRequirement }
    /// `initialEquity − initialRequirement`.
    public var initialSurplus: Double { initialEquity - initialRequirement }

    /// Market snapshot times per underlying, for the result's provenance.
    public var marketTimestamps: [String: Int64] {
        Dictionary(riskUnits.map { ($0.underlying, $0.marketTimestampMs) }, uniquingKeysWith: max)
    }
}

/// The requirement totals of an account without the explanation (the hot path's output).
public struct MarginSummary: Sendable, Hashable {
    public var grossEquity: Double
    public var equity: Double
    public var initialEquity: Double
    public var maintenanceRequirement: Double
    public var initialRequirement: Double
    public var health: HealthState

    public init(grossEquity: Double, equity: Double, initialEquity: Double, maintenanceRequirement: Double,
                initialRequirement: Double, health: HealthState) {
        self.grossEquity = grossEquity
        self.equity = equity
        self.initialEquity = initialEquity
        self.maintenanceRequirement = maintenanceRequirement
        self.initialRequirement = initialRequirement
        self.health = health
    }

    /// No amounts, for an account that cannot be margined (health ``HealthState/error``).
    public static let unavailable = MarginSummary(grossEquity: 0, equity: 0, initialEquity: 0, maintenanceRequirement: 0,
                                                  initialRequirement: 0, health: .error)

    public static func health(equity: Double, initialEquity: Double, maintenance: Double, initial: Double) -> HealthState {
        if equity < 0 { return .bankrupt }
        if equity < maintenance { return .liquidatable }
        if initialEquity < initial { return .belowInitial }
        return .healthy
    }
}
