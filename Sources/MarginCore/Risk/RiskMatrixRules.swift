/// The risk-matrix rules of Deribit's portfolio margin (the names are Deribit's, from the
/// `model_params` of `private/pme/simulate` and the support article "Portfolio Margin"). Each is
/// optional in ``RiskUnitParameters``; without them the engine behaves as Derive's PMRM_2 does.
///
/// Where Deribit publishes the result but not the formula, the rule adopted here is stated on the
/// type, with what it is inferred from; `margin-engine conformance deribit-pme` reproduces Deribit's
/// published example response with exactly these rules.

/// How futures, perpetuals and linked balances move in tail (extended) scenarios.
public enum DeltaOneTailTreatment: String, Sendable, Hashable, CaseIterable {
    /// Revalued at the tail scenario's own spot move (Derive PMRM_2 shocks its perpetual in every
    /// scenario).
    case shocked
    /// Valued at the nearest edge of the regular range: a move below the grid's lowest regular spot
    /// shock takes that shock, a move above its highest takes that one. Deribit's published risk
    /// vectors show exactly this: the extended entries of BTC-PERPETUAL and BTC-28JUN24 equal their
    /// −16 % entries for the down moves and their +16 % entries for the up moves. The extended table
    /// "is primarily meant to account for large short options positions that are far out of the
    /// money" (Deribit, "Portfolio Margin").
    case standardRangeEdge = "standard_range_edge"
}

/// Gain crediting (Deribit's `pnl_offset` and `max_offsetable_pnl`): in every grid scenario, a
/// risk unit's net gain counts only as `pnlOffset × gain`, and at most `maxOffsetablePnl` USD, when
/// it offsets other units' losses. A unit's own worst case is a loss and is unaffected; the rule
/// matters where units combine (the account's joint grid, ``RiskParameters/decorrelation`` < 1) —
/// as Deribit's currencies combine in cross-collateral portfolio margin. Deribit's response applies
/// it to the aggregated vectors ("`aggregated_risk_vectors` ... after applying the `pnl_offset`",
/// Deribit API changelog on `pre_aggregated_risk_vectors`); the example's `pnl_offset` 0 turns
/// every gain into 0.
public struct GainCreditRule: Sendable, Hashable {
    /// Fraction of a gain credited, in [0, 1].
    public var pnlOffset: Double
    /// Largest credited gain per scenario, USD (nil: no cap).
    public var maxOffsetablePnl: Double?

    public init(pnlOffset: Double, maxOffsetablePnl: Double? = nil) {
        self.pnlOffset = pnlOffset
        self.maxOffsetablePnl = maxOffsetablePnl
    }
}

/// Deribit's roll shock: `Σᵢ |qᵢ| · max(annualisedMoveRisk · τᵢ, minimumAnnualisedMove)` over the
/// unit's futures and perpetuals, with `|qᵢ|` the position's size in underlying units at the
/// current mark (valued at the index in valuation units) and `τᵢ` its years to expiry (0 for a
/// perpetual). It replaced the futures contingency (Deribit's 2024 model change) and reproduces the
/// published example exactly (0.314538364 × 0.01 + 0.001187534 × 0.01 = 0.00315725898 BTC). It is
/// part of the risk-matrix margin, so the maintenance and initial factors apply to it.
public struct RollShockRule: Sendable, Hashable {
    /// Annualised calendar-spread move (0.075 = 7.5 % per year).
    public var annualisedMoveRisk: Double
    /// Floor of the move, whatever the expiry (0.01 = 1 %).
    public var minimumAnnualisedMove: Double

    public init(annualisedMoveRisk: Double, minimumAnnualisedMove: Double) {
        self.annualisedMoveRisk = annualisedMoveRisk
        self.minimumAnnualisedMove = minimumAnnualisedMove
    }

    /// The charge's rate for a position `yearsToExpiry` from expiry (0 for a perpetual).
    @inlinable
    public func rate(yearsToExpiry: Double) -> Double {
        max(annualisedMoveRisk * max(yearsToExpiry, 0), minimumAnnualisedMove)
    }
}

/// Deribit's delta shock (`max_delta_shock`, `delta_total_liq_shock_threshold`): a liquidity
/// charge on a large net delta. Deribit publishes the parameters, not the formula; the rule adopted
/// here: with `D` the unit's net delta notional in USD (futures, perpetuals, linked balances and the
/// options' Black-76 deltas, at the index) and `T` the threshold, the charge is
/// `|D| · maxShock · clamp((|D| − T)/T, 0, 1)` — nothing up to the threshold (the published example,
/// a 0.31 BTC book, shows `delta_shock` 0), rising linearly to `maxShock` of the notional at twice
/// the threshold. It is part of the risk-matrix margin, like the roll shock.
public struct DeltaShockRule: Sendable, Hashable {
    /// Largest shock, a fraction of the delta notional (0.1 = 10 %).
    public var maxShock: Double
    /// Net delta notional (USD) up to which nothing is charged.
    public var liquidityThreshold: Double

    public init(maxShock: Double, liquidityThreshold: Double) {
        self.maxShock = maxShock
        self.liquidityThreshold = liquidityThreshold
    }

    /// The charge (USD) for a net delta notional of `deltaNotional` USD.
    @inlinable
    public func charge(deltaNotional: Double) -> Double {
        let size = abs(deltaNotional)
        guard size > liquidityThreshold else { return 0 }
        let ramp = min(1, (size - liquidityThreshold) / liquidityThreshold)
        return size * maxShock * ramp
    }
}

/// How one grid column of a unit's scenario vector becomes the value the worst case and the
/// account's joint grid read — the one definition the aggregation, the explanation and the
/// conformance share:
/// - a tail (extended) scenario's loss counts only beyond the dampener `D`: `min(0, pnl + D)`
///   (Deribit's `extended_dampener`, USD; the rule adopted: the dampener is a deductible, so small
///   books are not margined on extended moves at all — Deribit's model change "adjusts margin
///   requirements only when the projected loss is substantial", and the published example's
///   extended losses of 0.0597 BTC become 0 under its 100,000 USD dampener);
/// - a gain counts as `min(pnlOffset · gain, cap)` (``GainCreditRule``).
public struct ScenarioVectorAdjustment: Sendable, Hashable {
    /// The dampener in valuation units (0: off).
    public var tailDampener: Double
    /// The credited fraction of gains (1: full credit).
    public var gainFraction: Double
    /// The largest credited gain in valuation units (infinity: no cap).
    public var gainCap: Double

    public static let none = ScenarioVectorAdjustment(tailDampener: 0, gainFraction: 1, gainCap: .infinity)

    public init(tailDampener: Double, gainFraction: Double, gainCap: Double) {
        self.tailDampener = tailDampener
        self.gainFraction = gainFraction
        self.gainCap = gainCap
    }

    /// The unit's adjustment with amounts converted from USD at `valuationPrice` (USD per valuation unit).
    public init(unit: RiskUnitParameters, valuationPrice: Double) {
        tailDampener = unit.extendedDampener / valuationPrice
        gainFraction = unit.gainCredit?.pnlOffset ?? 1
        gainCap = unit.gainCredit?.maxOffsetablePnl.map { $0 / valuationPrice } ?? .infinity
    }

    /// Whether it changes anything.
    public var isIdentity: Bool { tailDampener == 0 && gainFraction == 1 && gainCap == .infinity }

    /// The adjusted PnL of a column (valuation units, negative = loss).
    @inlinable
    public func adjusted(_ pnl: Double, tail: Bool) -> Double {
        if pnl > 0 { return min(pnl * gainFraction, gainCap) }
        return tail ? min(0, pnl + tailDampener) : pnl
    }
}
