import MarginCore

extension MarginEngine {
    /// The current margin of an account with its breakdown, from memory (as
    /// ``EngineSnapshot/currentResult(accountID:)`` answers it, at this moment).
    public func currentResult(accountID: String) -> AccountAnswer? {
        makeSnapshot().currentResult(accountID: accountID)
    }

    /// The pre-trade question for a held account at this moment (see ``EngineSnapshot/preTrade(accountID:order:)``).
    public func preTrade(accountID: String, order: OpenOrder) throws(MarginError) -> PreTradeCheck? {
        try makeSnapshot().preTrade(accountID: accountID, order: order)
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
