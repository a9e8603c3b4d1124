import MarginCore

/// A held account's current margin as an HTTP answer carries it: the result (its explanation, or
/// the error it cannot be margined for) and its liquidation status.
public struct AccountAnswer: Sendable {
    public var result: ResultOutput
    public var liquidation: LiquidationStatus
}

extension MarginEngine {
    /// The current margin of an account with its breakdown, from memory.
    /// An account that cannot be margined answers with its error result (health `error`, reason).
    public func currentResult(accountID: String) -> AccountAnswer? {
        guard let (key, entry) = accounts.find(id: accountID) else { return nil }
        let answer: ResultOutput
        if let error = entry.error {
            answer = errorResult(entry.account, error)
        } else {
            guard let exposure = entry.exposure, let calculator else { return nil }
            do {
                var result = try calculator.explain(exposure, books: reference.data.riskBooks, markets: reference.data.markets)
                if let field = result.firstNonFiniteField {
                    answer = errorResult(entry.account, .numerical("\(field) is not finite"))
                } else {
                    if let health = entry.effectiveHealth { result.health = health }
                    answer = .full(id: Self.resultID(entry.account, result: result), result)
                }
            } catch {
                answer = errorResult(entry.account, error)
            }
        }
        let isError: Bool
        if case .error = answer { isError = true } else { isError = false }
        return AccountAnswer(result: answer, liquidation: liquidation.status(of: key, health: isError ? .error : entry.effectiveHealth))
    }

    /// The pre-trade question for a held account: its margin as it stands and with `order` resting
    /// too, against the live markets (nothing is stored). Nil when this instance does not hold it.
    public func preTrade(accountID: String, order: OpenOrder) throws(MarginError) -> PreTradeCheck? {
        guard let calculator else { throw .missingParameters(underlying: settings.paramsID) }
        guard let (_, entry) = accounts.find(id: accountID) else { return nil }
        let data = reference.data
        var with = entry.account
        with.openOrders.append(order)
        try with.validate(instruments: data.catalog, bounds: settings.inputBounds)
        let asOf = data.markets.underlyings.values.map(\.timestampMs).max() ?? clock()
        return try calculator.preTrade(account: entry.account, order: order, catalog: data.catalog, markets: data.markets, asOfMs: asOf)
    }

    /// Counts for the status line and tests.
    public func status() -> WorkerStatus {
        WorkerStatus(referenceReady: referenceReady, assigned: assignmentReceived, shards: accounts.partitions,
                     restoredShards: accounts.shards.values.filter(\.isServing).map(\.partition).sorted(), accounts: accounts.accountCount,
                     accountsByHealth: healthCounts(), staleUnderlyings: reference.stale.keys.sorted(),
                     queuedLiquidations: liquidation.queuedCount, outstandingInstructions: liquidation.outstandingCount,
                     maxQueuedLiquidations: maxQueued, processedMarketMs: reference.processedMarketMs,
                     latencyP50Ms: latencies.percentileMs(0.5), latencyP99Ms: latencies.percentileMs(0.99), pendingOutputs: batch.outputs.count, ticks: ticks,
                     waitingReasons: Dictionary(liquidation.waiting.map { ($0.key.id, $0.value.code) }, uniquingKeysWith: { a, _ in a }))
    }

    /// Accounts per health after the stale guard (accounts not margined yet are not counted).
    func healthCounts() -> [HealthState: Int] { accounts.healthCounts.filter { $0.value > 0 } }

    /// `margin_accounts{health}`, every state present (zeros included).
    func publishHealthCounts() {
        let counts = healthCounts()
        metrics.accountsByHealth(Dictionary(uniqueKeysWithValues: HealthState.allCases.map { ($0.rawValue, counts[$0] ?? 0) }))
    }
}
