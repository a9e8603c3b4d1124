extension MarginEngine {
    /// The outputs to publish next (results, instructions, dead letters and the consumed offsets,
    /// for one transaction), or nil when nothing is pending or a batch is still in flight. The
    /// caller publishes it outside the engine and reports back with ``finishBatch(_:committed:)``.
    public func takeBatch() -> OutputBatch? {
        guard !batchInFlight else { return nil }
        // Positions of processed records only (never a partition end's, which a draining shard may
        // reach past records it dropped), and none for a shard still restoring.
        for (partition, position) in batch.positions {
            accounts.withShard(partition) { $0.batchCarries(upTo: position) }
        }
        recordAnsweredPositions()
        guard !batch.isEmpty else { return nil }
        batchInFlight = true
        defer { batch = OutputBatch() }
        return batch
    }

    /// Puts the answered positions due for a record into the pending batch (see
    /// ``AccountShard/positionToRecord(now:intervalMs:final:)``): every shard's when draining, a
    /// revoking shard's at once, others at most once per `consumedPositionInterval`.
    func recordAnsweredPositions() {
        let now = clock()
        let intervalMs = settings.consumedPositionInterval.milliseconds
        for partition in accounts.partitions {
            if let position = accounts.withShard(partition, { $0.positionToRecord(now: now, intervalMs: intervalMs, final: phase.isDraining) }) ?? nil {
                batch.answeredPositions[partition] = position
            }
        }
    }

    /// A batch's outcome: committed, its results and liquidation state apply; aborted, its outputs
    /// (same ids) go out again first with the next batch.
    public func finishBatch(_ finished: OutputBatch, committed: Bool) {
        batchInFlight = false
        if committed {
            // Only for accounts still held (a tombstone or a revocation may have come since).
            for (key, result) in finished.pendingResults where accounts.contains(key) {
                published.record(result, for: key)
            }
            liquidation.committed(finished.liquidationCommits)
            metrics.resultsPublished(finished.outputs.count { if case .result = $0 { true } else { false } })
            metrics.instructionsPublished(finished.liquidationCommits.filter(\.isInstruction).count)
            metrics.cancelsPublished(finished.liquidationCommits.filter { !$0.isInstruction }.count)
        } else {
            metrics.transactionAborted()
            batch.merge(failed: finished)
        }
    }

    /// Before a revocation: the partitions' shards stop producing outputs (phase `revoking`), so
    /// that the flush that follows carries everything they will ever publish here.
    public func prepareRevocation(_ partitions: [Int32]) {
        for partition in partitions { accounts.withShard(partition) { $0.prepareRevocation() } }
    }
}
