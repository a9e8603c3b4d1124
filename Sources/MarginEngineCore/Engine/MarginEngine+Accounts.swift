import Logging
import MarginCore

extension MarginEngine {
    /// Takes over partitions of the accounts topic with what the adapter read for them first (the
    /// restore target and the liquidation state): the engine itself never waits for I/O here.
    public func assignShards(_ assignments: [ShardAssignment]) {
        defer { publishView() }
        assignmentReceived = true
        for assignment in assignments {
            let partition = assignment.partition
            for problem in assignment.unreadable { logger.error("unreadable liquidation-state record", metadata: ["record": "\(problem)"]) }
            liquidation.restore(assignment.liquidationStates)
            accounts.assign(partition, restoreTarget: assignment.restoreTarget, answeredBefore: assignment.answeredBefore, now: clock())
            published.release(partition)
            logger.info("shard assigned", metadata: ["partition": "\(partition)", "restore_to": "\(assignment.restoreTarget)",
                                                     "answered_before": "\(assignment.answeredBefore.map(String.init) ?? "unknown")"])
            advance(partition, to: 0)
        }
        updateBudgetShare()
        publishReferenceDeadLettersIfOwner()
    }

    /// Events of the accounts consumer in order, in one visit to the engine (an adapter hands over
    /// what its consumer has buffered: one hop to the engine's thread per batch, not per record).
    public func handleAccounts(_ events: [AccountsEvent]) {
        for event in events { handleAccounts(event) }
    }

    /// Records, partition ends, revocations and errors of the accounts consumer. Assignments go
    /// through ``assignShards(_:)`` (the adapter reads their restore data first).
    public func handleAccounts(_ event: AccountsEvent) {
        switch event {
        case .revoked(let partitions):
            defer { publishView() }
            // The adapter has flushed these partitions' outputs (see ``prepareRevocation(_:)``): release the state.
            for partition in partitions {
                guard let shard = accounts.revoke(partition) else { continue }
                published.release(partition)
                liquidation.release(partition: partition)
                batch.positions[partition] = nil
                metrics.accountsInShard(partition, 0)
                logger.info("shard revoked", metadata: ["partition": "\(partition)", "accounts": "\(shard.accounts.count)"])
            }
            updateBudgetShare()
        case .record(let source, let id, let account):
            let partition = source.partition.partition
            guard phase.state != .draining, let before = accounts[partition]?.isServing else { return } // not (or no longer) ours
            handleAccountRecord(source, id: id, account: account)
            advance(partition, to: source.offset + 1)
            // Readers see a shard once it serves (a record at a time would cost the ingest).
            if accounts[partition]?.isServing != before { publishView() }
        case .partitionEnd(let partition, let next):
            // Caught up on a partition whose high watermark may lie past a commit marker.
            guard let shard = accounts[partition] else { return }
            advance(partition, to: max(next, shard.restoreTarget))
            if accounts[partition]?.isServing != shard.isServing { publishView() }
        case .error(let error):
            logger.warning("accounts consumer: \(error)")
        }
    }

    /// Validates and stores one account record (the version rule: only a newer version replaces
    /// the one held), and margins it at once when its shard serves. An invalid record is
    /// dead-lettered; its position is committed with the batch either way.
    private func handleAccountRecord(_ source: RecordSource, id: String, account decoded: Result<Account?, MarginError>) {
        let partition = source.partition.partition
        batch.positions[partition] = source.offset + 1
        let key = AccountKey(partition: partition, id: id)
        let account: Account
        do {
            guard let decodedAccount = try decoded.get() else {
                accounts.remove(key)
                published.remove(key)
                return
            }
            try decodedAccount.validate(instruments: reference.data.catalog, bounds: settings.inputBounds)
            account = decodedAccount
        } catch {
            deadLetter(source, error, accounts: true)
            return
        }
        // A version no previous owner answered, read while restoring, is answered even when a later
        // record replaces it before the restore completes.
        let unanswered = accounts[partition]?.isUnansweredRestore(offset: source.offset) == true
        let previous = unanswered ? accounts.read(key) { $0.account } : nil
        let stored = accounts.store(account, at: key, markets: reference.marketsRead(by: account), compile: reference.compile)
        if stored == .stored, unanswered {
            accounts.withShard(partition) { $0.recordUnanswered(key.id, replacing: previous) }
        }
        if stored == .stored, accounts[key.partition]?.isServing == true {
            timedRemargin([key], force: false)
        }
    }

    /// Moves a shard's position; when that completes its restore, margins all its accounts and
    /// publishes them.
    func advance(_ partition: Int32, to next: Int64) {
        guard accounts.advance(partition, to: next), let shard = accounts[partition] else { return }
        let keys = shard.accounts.keys.map { AccountKey(partition: partition, id: $0) }
        logger.info("shard restored", metadata: ["partition": "\(partition)", "accounts": "\(keys.count)"])
        metrics.accountsInShard(partition, keys.count)
        answerSuperseded(partition)
        remargin(keys, force: true)
    }
}
