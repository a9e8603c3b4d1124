/// Initial margin for open orders (Deribit's `open_orders_margin` and `mmp_margin`): what filling
/// the worse side of the account's orders at their limit prices would take.
///
/// For each group (orders that are not MMP quotes; MMP quotes, each up to its quote size) and each
/// side (every buy, every sell), the filled account (``Account/filling(_:catalog:valuationAsset:)``)
/// is margined like the account itself; the side's margin is how much it deepens the initial
/// shortfall, `(IM_filled − IE_filled) − (IM − IE)`, which counts both the added risk and the
/// premium or price paid against the mark. The group's charge is its worse side, floored at 0.
/// Maintenance margin is unaffected. Deribit charges IM for open orders of portfolio-margin
/// accounts since 18 August 2022 (Deribit, "18 August 2022", risk change 1).
extension MarginCalculator {
    /// The order groups' charges (valuation units) and, when explaining, one charge line per group.
    struct OrderMargin {
        var total = 0.0
        var charges: [ContingencyCharge] = []
    }

    /// The order margin of `exposure` whose own initial requirement and initial equity are given.
    func orderMargin(_ exposure: AccountExposure, initialRequirement: Double, initialEquity: Double, books: [String: RiskBook],
                     markets: MarketState, explain: Bool) throws(MarginError) -> OrderMargin {
        var margin = OrderMargin()
        let shortfall = initialRequirement - initialEquity
        var worst: [String: (cost: Double, detail: String)] = [:]
        var order: [String] = []
        for fill in exposure.orderFills {
            let filled = try summary(fill.exposure, books: books, markets: markets)
            let cost = (filled.initialRequirement - filled.initialEquity) - shortfall
            if worst[fill.group] == nil { order.append(fill.group) }
            guard cost > (worst[fill.group]?.cost ?? 0) || worst[fill.group] == nil else { continue }
            let detail = explain
                ? "worse side \(fill.side.rawValue): \(fill.orderCount) order(s), \(formatAmount(fill.contracts)) contracts filled at their limits; "
                    + "IM \(formatAmount(initialRequirement)) → \(formatAmount(filled.initialRequirement)), "
                    + "initial equity \(formatAmount(initialEquity)) → \(formatAmount(filled.initialEquity))"
                : ""
            worst[fill.group] = (cost, detail)
        }
        for group in order {
            guard let (cost, detail) = worst[group], cost > 0 else { continue }
            margin.total += cost
            if explain { margin.charges.append(ContingencyCharge(name: group, maintenance: 0, initial: cost, detail: detail)) }
        }
        return margin
    }
}

/// The pre-trade question: does this account still meet initial margin with one more order resting?
public struct PreTradeCheck: Sendable, Hashable {
    /// The account's margin as it stands.
    public var before: MarginResult
    /// With the order added to its open orders.
    public var after: MarginResult
    /// Whether the initial equity still covers the initial requirement with the order.
    public var fits: Bool { after.initialEquity >= after.initialRequirement }
    /// The order's own IM: how much the initial requirement rises (≥ 0 when it adds risk).
    public var orderInitialMargin: Double { after.initialRequirement - before.initialRequirement }
}

extension MarginCalculator {
    /// Margins `account` as it stands and with `order` resting as well, against the same markets;
    /// `held` books whose market and catalog match are reused (see ``margin(account:catalog:markets:asOfMs:reusing:)``).
    public func preTrade(account: Account, order: OpenOrder, catalog: InstrumentCatalog, markets: MarketState,
                         asOfMs: Int64, reusing held: [String: RiskBook] = [:]) throws(MarginError) -> PreTradeCheck {
        var with = account
        with.openOrders.append(order)
        return PreTradeCheck(before: try margin(account: account, catalog: catalog, markets: markets, asOfMs: asOfMs, reusing: held),
                             after: try margin(account: with, catalog: catalog, markets: markets, asOfMs: asOfMs, reusing: held))
    }
}
