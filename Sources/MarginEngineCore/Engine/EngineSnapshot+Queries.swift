import MarginCore

/// A held account's current margin as an HTTP answer carries it: the result (its explanation, or
/// the error it cannot be margined for) and its liquidation status.
public struct AccountAnswer: Sendable {
    public var result: ResultOutput
    public var liquidation: LiquidationStatus
}

extension EngineSnapshot {
    /// The current margin of a held account with its breakdown, as of this snapshot; nil when this
    /// instance does not hold it. An account that cannot be margined answers with its error result
    /// (health `error`, reason).
    ///
    /// The account is compiled against the snapshot's own catalog, books and parameters (a few
    /// microseconds), so the explanation never mixes an exposure compiled by a later step with
    /// earlier books; with the same inputs it is the result the engine publishes.
    public func currentResult(accountID: String) -> AccountAnswer? {
        guard let (key, entry) = accounts.find(id: accountID) else { return nil }
        let answer = entry.error.map { MarginEngine.errorResult(entry.account, $0, parameters: parameters, paramsID: paramsID) }
            ?? resultOutput(for: entry.account, health: entry.effectiveHealth)
        let isError: Bool
        if case .error = answer { isError = true } else { isError = false }
        return AccountAnswer(result: answer, liquidation: liquidation.status(of: key, health: isError ? .error : entry.effectiveHealth))
    }

    /// The pre-trade question for a held account: its margin as it stands and with `order` resting
    /// too, against the snapshot's markets and books (nothing is stored). Nil when this instance
    /// does not hold it.
    public func preTrade(accountID: String, order: OpenOrder) throws(MarginError) -> PreTradeCheck? {
        guard let calculator else { throw .missingParameters(underlying: paramsID) }
        guard let (_, entry) = accounts.find(id: accountID) else { return nil }
        var with = entry.account
        with.openOrders.append(order)
        try with.validate(instruments: reference.catalog, bounds: inputBounds)
        return try calculator.preTrade(account: entry.account, order: order, catalog: reference.catalog, markets: reference.markets,
                                       asOfMs: asOfMs, reusing: reference.riskBooks)
    }

    /// The explained result of `account` against this snapshot (its health replaced by `health`
    /// when given: the stale guard's), or its error result; never a result carrying NaN or infinity.
    func resultOutput(for account: Account, health: HealthState?) -> ResultOutput {
        do throws(MarginError) {
            var result = try explain(account)
            if let field = result.firstNonFiniteField { throw .numerical("\(field) is not finite") }
            if let health { result.health = health }
            return .full(id: MarginEngine.resultID(account, result: result), result)
        } catch {
            return MarginEngine.errorResult(account, error, parameters: parameters, paramsID: paramsID)
        }
    }

    /// `account` compiled against the snapshot's catalog, books and parameters and explained.
    func explain(_ account: Account) throws(MarginError) -> MarginResult {
        guard let calculator, let parameters else { throw .missingParameters(underlying: paramsID) }
        let exposure = try AccountExposure(account: account, catalog: reference.catalog, books: reference.riskBooks, parameters: parameters)
        return try calculator.explain(exposure, books: reference.riskBooks, markets: reference.markets)
    }
}
