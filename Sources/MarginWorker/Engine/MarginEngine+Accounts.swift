import Logging
import KafkaClient
import MarginCore

extension MarginEngine {
    /// Takes over partitions of the accounts topic with what the service read for them first (the
    /// restore target and the liquidation state): the engine itself never waits for Kafka here.
    public func assignShards(_ assignments: [ShardAssignment]) {
        for assignment in assignments {
            let partition = assignment.partition.partition
            let (states, problems) = InputDecoder.liquidationStates(assignment.liquidationState)
            for problem in problems { logger.error("unreadable liquidation-state record", metadata: ["record": "\(problem)"]) }
            liquidation.restore(states)
            accounts.assign(partition, restoreTarget: assignment.restoreTarget, now: clock())
            logger.info("shard assigned", metadata: ["partition": "\(partition)", "restore_to": "\(assignment.restoreTarget)"])
            advance(partition, to: 0)
        }
        updateBudgetShare()
        publishReferenceDeadLettersIfOwner()
    }

    /// Records, partition ends, revocations and errors of the accounts consumer. Assignments go
    /// through ``assignShards(_:)`` (the service reads their restore data first).
    public func handleAccounts(_ event: KafkaConsumerEvent) {
        switch event {
        case .partitionsAssigned(let partitions):
            // Not expected (the service calls assignShards): restore to the partitions' ends, no liquidation state.
            logger.error("partitions assigned without restore data", metadata: ["partitions": "\(partitions)"])
            assignShards(ShardAssignment.restoring(partitions, to: { _ in .max }))
        case .partitionsRevoked(let partitions):
            // The service has flushed this partition's outputs (see ``prepareRevocation(_:)``): release the state.
            for partition in partitions {
                guard let shard = accounts.revoke(partition.partition) else { continue }
                liquidation.release(partition: partition.partition)
                batch.offsets[partition] = nil
                metrics.accountsInShard(partition.partition, 0)
                logger.info("shard revoked", metadata: ["partition": "\(partition.partition)", "accounts": "\(shard.accounts.count)"])
            }
            updateBudgetShare()
        case .message(let message):
            guard phase.state != .draining, accounts[message.partition] != nil else { return } // not (or no longer) ours
            handleAccountMessage(message)
            advance(message.partition, to: message.offset + 1)
        case .partitionEnd(let partition, let next):
            // Caught up on a partition whose high watermark may lie past a commit marker.
            guard partition.topic == configuration.topics.accounts, let shard = accounts[partition.partition] else { return }
            advance(partition.partition, to: max(next, shard.restoreTarget))
        case .error(let error):
            logger.warning("accounts consumer: \(error)")
        }
    }

    /// Decodes, validates and stores one account record (the version rule: only a newer version
    /// replaces the one held), and margins it at once when its shard serves. An invalid record is
    /// dead-lettered; its offset is committed with the batch either way.
    private func handleAccountMessage(_ message: KafkaMessage) {
        batch.offsets[message.topicPartition] = KafkaOffset(message.offset + 1)
        let key: AccountKey
        let account: Account
        do {
            guard case .account(let id, let decoded) = try decoder.decode(message) else { return }
            key = AccountKey(partition: message.partition, id: id)
            guard let decoded else {
                accounts.remove(key)
                return
            }
            try decoded.validate(instruments: reference.data.catalog, bounds: configuration.inputBounds)
            account = decoded
        } catch {
            deadLetter(message, error)
            return
        }
        let stored = accounts.store(account, at: key, markets: reference.marketsRead(by: account), compile: reference.compile)
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
        remargin(keys, force: true)
    }
}
