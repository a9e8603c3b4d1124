import MarginCore
import MarginEngineCore

/// What a cascade run changes in the product, compared on the same seed and path.
///
/// - `default`: the product as configured: the anti-cascade budget per window, partial
///   reduce-only steps, the liquidity and concentration add-ons; the executor fills each leg up to
///   its limit price (the rest of the leg lapses).
/// - `naive`: every liquidatable account is closed out in full at once, with no budget, at market
///   (the executor ignores limit prices).
/// - `no_budget`, `no_concentration`, `no_liquidity`: the default with one mitigation off.
public enum CascadePolicy: String, Sendable, Hashable, CaseIterable, Codable {
    case `default` = "default"
    case naive = "naive"
    case noBudget = "no_budget"
    case noConcentration = "no_concentration"
    case noLiquidity = "no_liquidity"

    /// The budget fraction and no-book cap standing for "no budget": far beyond any displayed depth
    /// or position. (An instrument whose closing side shows no depth but trades keeps the
    /// coordinator's volume share per window: the settings cannot lift it.)
    static let unlimitedBudget = 1e12
    static let unlimitedNoBookCap = 1e15

    /// The parameter set this policy margins with.
    public func parameters(_ base: RiskParameters) -> RiskParameters {
        var parameters = base
        for underlying in parameters.riskUnits.keys {
            switch self {
            case .noConcentration: parameters.riskUnits[underlying]?.concentrationAddOn = nil
            case .noLiquidity: parameters.riskUnits[underlying]?.liquidityAddOn = nil
            case .default, .naive, .noBudget: break
            }
        }
        return parameters
    }

    /// The liquidation settings this policy plans with.
    public func settings(_ base: LiquidationSettings) -> LiquidationSettings {
        var settings = base
        switch self {
        case .naive:
            settings.budgetFraction = Self.unlimitedBudget
            settings.noBookCap = Self.unlimitedNoBookCap
            settings.closeOutEquity = .greatestFiniteMagnitude
        case .noBudget:
            settings.budgetFraction = Self.unlimitedBudget
            settings.noBookCap = Self.unlimitedNoBookCap
        case .default, .noConcentration, .noLiquidity:
            break
        }
        return settings
    }

    /// Whether the executor fills at market, ignoring the instructions' limit prices.
    public var fillsAtMarket: Bool { self == .naive }

    /// The policy the run is compared with for "accounts that would have survived".
    public var comparedWith: CascadePolicy { self == .default ? .naive : .default }
}
