import MarginCore

/// Read-only queries of the risk console (`GET /`, `GET /accounts/{id}`), answered from the
/// published snapshot: they never wait for the engine and change nothing.
extension EngineSnapshot {
    /// This instance's partitions, markets, health counts, the `nearestCount` accounts nearest
    /// liquidation, and outstanding and queued liquidations, as of the snapshot.
    public func consoleOverview(group: String, nearestCount: Int = 20) -> ConsoleOverview {
        let partitions = accounts.shards.values.sorted { $0.partition < $1.partition }.map {
            ConsoleOverview.Partition(partition: $0.partition, restored: $0.isServing, accounts: $0.accounts.count,
                                      restoreTarget: $0.restoreTarget, nextOffset: $0.nextOffset)
        }
        let stale = Set(status.staleUnderlyings)
        let markets = reference.markets.underlyings.values.sorted { $0.underlying < $1.underlying }.map {
            ConsoleOverview.Market(underlying: $0.underlying, indexPrice: $0.indexPrice, indexConfidence: $0.indexConfidence,
                                   timestampMs: $0.timestampMs, ageMs: nowMs - $0.timestampMs, stale: stale.contains($0.underlying))
        }
        var counts = Dictionary(uniqueKeysWithValues: HealthState.allCases.map { ($0, 0) })
        var unmargined = 0
        var rows: [ConsoleAccountRow] = []
        for (partition, shard) in accounts.shards {
            for (id, entry) in shard.accounts {
                guard let summary = entry.summary, let health = entry.effectiveHealth else {
                    unmargined += 1
                    continue
                }
                counts[health, default: 0] += 1
                rows.append(ConsoleAccountRow(id: id, partition: partition, health: health, equity: summary.equity,
                                              maintenance: summary.maintenanceRequirement, initial: summary.initialRequirement))
            }
        }
        rows.sort(by: ConsoleAccountRow.nearerLiquidation)
        return ConsoleOverview(
            instanceID: instanceID, group: group, parameterSetID: paramsID,
            parameterSetVersion: parameters?.version, valuationAsset: parameters?.valuationAsset ?? "", nowMs: nowMs,
            referenceRestored: status.referenceReady, ready: isReady, partitions: partitions, markets: markets,
            accountsByHealth: counts, unmargined: unmargined, nearest: Array(rows.prefix(max(0, nearestCount))),
            outstanding: liquidation.outstanding.values.filter(\.isLive).map(Self.consoleInstruction).sorted { ($0.deadlineMs, $0.accountID) < ($1.deadlineMs, $1.accountID) },
            queued: liquidation.queuedAccounts.sorted(), latencyP50Ms: status.latencyP50Ms, latencyP99Ms: status.latencyP99Ms)
    }

    /// One held account with its explained margin, or nil when this instance does not hold it.
    public func consoleAccount(id: String) -> ConsoleAccount? {
        guard let (key, entry) = accounts.find(id: id) else { return nil }
        let partition = key.partition
        var result: MarginResult?
        var blocked = entry.blockedReason
        if entry.error == nil {
            do {
                var explained = try explain(entry.account)
                if let health = entry.effectiveHealth { explained.health = health }
                result = explained
            } catch {
                blocked = error.description
            }
        }
        var labels: [String: [String]] = [:]
        for unit in result?.riskUnits ?? [] {
            // The same labels the explanation names the binding column with.
            labels[unit.underlying] = reference.riskBooks[unit.underlying].map { book in (0..<book.gridScenarioCount).map(book.columnLabel) } ?? []
        }
        return ConsoleAccount(id: id, version: entry.account.version, partition: partition, result: result,
                              blockedReason: result == nil ? (blocked ?? "not margined yet") : nil, scenarioLabels: labels,
                              outstanding: liquidation.outstanding[id].map(Self.consoleInstruction),
                              waitingReason: liquidation.waiting[AccountKey(partition: partition, id: id)].map { "\($0.code): \($0.detail)" },
                              nowMs: nowMs)
    }

    static func consoleInstruction(_ state: OutstandingInstruction) -> ConsoleOverview.Instruction {
        ConsoleOverview.Instruction(id: state.id, accountID: state.accountID, round: state.round,
                                    deadlineMs: state.deadlineMs, partition: state.partition)
    }
}
