import Logging
extension MarginEngine {
    /// Plans this window's liquidations (``LiquidationCoordinator``) and queues their records;
    /// their state applies once the batch commits.
    func planLiquidations(now: Int64) {
        guard settings.liquidation.enabled, let calculator else { return }
        let stale = reference.stale
        let shards = accounts.shards
        let context = LiquidationContext(calculator: calculator, reference: reference.data, isStale: { stale[$0] != nil },
                                         isServing: { shards[$0]?.isServing == true })
        for action in liquidation.plan(now: now, context: context) {
            batch.outputs.append(.liquidation(action))
            batch.liquidationCommits.append(action.commit)
        }
        for failure in liquidation.newFailures { logger.warning("liquidation planning: cannot use \(failure)") }
        metrics.liquidationQueue(liquidation.queuedCount)
        for (reason, count) in liquidation.waitingByReason { metrics.liquidationWaiting(reason: reason, count) }
        maxQueued = max(maxQueued, liquidation.queuedCount)
    }
}
