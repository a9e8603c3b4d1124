/// One market step of a policy's run (JSON `steps[]`). Amounts in valuation units (USD).
public struct CascadeStep: Sendable, Hashable, Codable {
    public var seconds: Double
    /// The index on the exogenous path, and as realised with the liquidations' own impact.
    public var exogenousIndex: Double
    public var realisedIndex: Double
    public var depthMultiplier: Double
    /// Delta notional filled by liquidations in this step.
    public var liquidatedNotional: Double
    /// Accounts that first became liquidatable in this step, and those of them that the exogenous
    /// path alone would never have liquidated (triggered by earlier fills).
    public var newLiquidatable: Int
    public var endogenousTriggers: Int
    /// Planning rounds (one budget window each) run in this step.
    public var rounds: Int

    enum CodingKeys: String, CodingKey {
        case seconds = "t_seconds", exogenousIndex = "exogenous_index", realisedIndex = "realised_index"
        case depthMultiplier = "depth_multiplier", liquidatedNotional = "liquidated_notional_usd", newLiquidatable = "new_liquidatable"
        case endogenousTriggers = "endogenous_triggers", rounds
    }
}

/// The measures of one policy's run (JSON `policies.<name>`; documented in the README). Every
/// number is finite; amounts are valuation units (USD).
public struct CascadePolicyResult: Sendable, Hashable, Codable {
    /// Rounds (budget windows) in which an account first became liquidatable that the exogenous path
    /// alone would never have liquidated: liquidations triggered by earlier liquidations' fills.
    public var waves: Int
    /// Accounts liquidated that the exogenous path alone would never have liquidated.
    public var endogenousLiquidations: Int
    /// Delta notional (|Δ| × underlying notional) filled by liquidations.
    public var liquidatedNotional: Double
    /// The largest gap between the realised and the exogenous index, in percent of the exogenous index.
    public var endogenousImpactPercent: Double
    /// Liquidations a 1 % fall would trigger (the delta notional the planner would instruct for the
    /// accounts it makes liquidatable) ÷ the delta-one depth displayed within 1 % of the mid:
    /// the larger of the opening and the stressed measure. Above 1 the cascade runs away.
    public var cascadeRatio: Double
    public var cascadeRatioOpening: Double
    /// The same at the step where the path's displayed depth is thinnest, on the run's accounts then.
    public var cascadeRatioStressed: Double
    /// Accounts whose close-out left a deficit (or whose equity was negative at the end).
    public var bankruptAccounts: Int
    /// Σ deficits: settled by the fund or ADL, left uncovered, or still open at the end.
    public var badDebt: Double
    public var insuranceFundUsed: Double
    /// Liquidation penalties paid into the fund.
    public var insuranceFundIncome: Double
    /// Mark notional of the positions auto-deleveraged once the fund was exhausted.
    public var adlNotional: Double
    /// Deficits neither the fund nor ADL covered.
    public var uncoveredDeficit: Double
    public var adlAccounts: Int
    /// Accounts with at least one liquidation fill; instructions published; legs filled.
    public var liquidatedAccounts: Int
    public var instructions: Int
    public var fills: Int
    /// The policy compared with, and the accounts liquidated in one run but never in the other.
    public var comparedWith: String
    public var liquidatedHereSurvivedThere: Int
    public var survivedHereLiquidatedThere: Int
    /// The largest departure from conservation over the run: cash (valuation units) and positions
    /// (contracts) across accounts, the book's makers and the fund, before against after each step.
    public var maxConservationError: Double
    public var steps: [CascadeStep]

    enum CodingKeys: String, CodingKey {
        case waves, endogenousLiquidations = "endogenous_liquidations", liquidatedNotional = "liquidated_notional_usd", endogenousImpactPercent = "endogenous_impact_pct"
        case cascadeRatio = "cascade_ratio", cascadeRatioOpening = "cascade_ratio_opening", cascadeRatioStressed = "cascade_ratio_stressed"
        case bankruptAccounts = "bankrupt_accounts", badDebt = "bad_debt_usd", insuranceFundUsed = "insurance_fund_used_usd"
        case insuranceFundIncome = "insurance_fund_income_usd", adlNotional = "adl_notional_usd", uncoveredDeficit = "uncovered_deficit_usd", adlAccounts = "adl_accounts"
        case liquidatedAccounts = "liquidated_accounts", instructions, fills, comparedWith = "compared_with"
        case liquidatedHereSurvivedThere = "liquidated_here_survived_there", survivedHereLiquidatedThere = "survived_here_liquidated_there"
        case maxConservationError = "max_conservation_error", steps
    }
}

/// A whole cascade run: the scenario, the seed and every policy's measures (JSON contract).
public struct CascadeResult: Sendable, Hashable, Codable {
    public var scenario: String
    public var scenarioDescription: String
    public var seed: UInt64
    public var accounts: Int
    public var insuranceFund: Double
    public var stepSeconds: Double
    public var bookHalfLifeSeconds: Double
    public var policies: [String: CascadePolicyResult]

    enum CodingKeys: String, CodingKey {
        case scenario, scenarioDescription = "scenario_description", seed, accounts, insuranceFund = "insurance_fund_usd"
        case stepSeconds = "step_seconds", bookHalfLifeSeconds = "book_half_life_seconds", policies
    }
}
