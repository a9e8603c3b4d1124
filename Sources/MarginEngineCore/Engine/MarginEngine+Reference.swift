import Logging
import MarginCore

extension MarginEngine {
    /// Sets the positions up to which the reference topics must be read before serving.
    public func setReferenceTargets(_ targets: [InputPartition: Int64]) {
        defer { publishView() }
        run(phase.setReferenceTargets(targets, now: clock()))
    }

    /// Records, partition ends and errors of the reference consumer (every instance reads the
    /// reference topics whole). An invalid record is dead-lettered and changes nothing.
    public func handleReference(_ event: ReferenceEvent) {
        handleReference([event])
    }

    /// Events of the reference consumer in order, in one visit to the engine (an adapter hands over
    /// what its consumer has buffered: one hop to the engine's thread per batch, not per record).
    public func handleReference(_ events: [ReferenceEvent]) {
        // Published once the reference is restored (during the restore each snapshot would make the
        // next record copy the catalog it shares); its reference part waits for the window's books.
        defer { if phase.referenceRestored { publishView(reference: view.snapshot == nil) } }
        for event in events { applyReference(event) }
    }

    private func applyReference(_ event: ReferenceEvent) {
        switch event {
        case .record(let source, let input):
            do {
                try reference.apply(input.get(), nowMs: clock(), maxClockSkewMs: settings.maxClockSkew.milliseconds)
            } catch {
                deadLetter(source, error, accounts: false)
            }
            run(phase.referenceRead(source.partition, next: source.offset + 1))
        case .partitionEnd(let partition, let next):
            run(phase.referenceRead(partition, next: next, partitionEnd: true))
        case .error(let error):
            logger.warning("reference consumer: \(error)")
        }
    }

    /// Runs what the phase machine decided.
    func run(_ action: WorkerPhase.Action) {
        switch action {
        case .none:
            break
        case .startServing:
            // The books are built now, so that the first accounts compile against them.
            reference.requestFullRebuild()
            let affected = rebuildBooks()
            if !affected.isEmpty { timedRemargin(Array(affected), force: false) }
            logger.info("reference data restored", metadata: [
                "instruments": "\(reference.data.catalog.count)", "markets": "\(reference.data.markets.underlyings.count)",
                "parameter_sets": "\(reference.data.parameterSets.count)",
            ])
        case .reportReferenceTimeout(let afterMs, let behind):
            logger.error("reference restore timed out", metadata: [
                "after_ms": "\(afterMs)", "partitions": "\(behind.map(\.description).joined(separator: ","))"])
            metrics.restoreTimeout(kind: "reference")
        }
    }

    /// Reports restores that take longer than `restore_timeout_ms` (once each): an error log and
    /// `margin_restore_timeouts_total{kind}`. The restore goes on; the instance stays not ready.
    func reportRestoreTimeouts(now: Int64) {
        let timeout = settings.restoreTimeout.milliseconds
        run(phase.checkTimeout(now: now, timeoutMs: timeout))
        for partition in accounts.partitions {
            guard accounts.withShard(partition, { $0.restoreTimedOut(now: now, timeoutMs: timeout) }) == true,
                  let shard = accounts[partition] else { continue }
            logger.error("shard restore timed out", metadata: [
                "partition": "\(partition)", "position": "\(shard.nextOffset)", "target": "\(shard.restoreTarget)",
                "after_ms": "\(now - shard.assignedAtMs)"])
            metrics.restoreTimeout(kind: "accounts")
        }
    }
}
