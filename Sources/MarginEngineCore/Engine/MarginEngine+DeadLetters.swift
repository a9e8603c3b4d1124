import Logging
import MarginCore

extension MarginEngine {
    /// Dead-letters an invalid record with a deterministic id (topic, partition, offset). An accounts
    /// record is dead-lettered by whichever instance reads it, also while restoring a shard (it may
    /// never have been seen by a live owner: a replay repeats the same id, none goes missing).
    /// Reference records are read by every instance: only the owner of accounts partition 0
    /// publishes their dead letters; the others keep them until they own it.
    func deadLetter(_ source: RecordSource, _ error: MarginError, accounts isAccounts: Bool) {
        let letter = DeadLetter(source: source, error: error)
        logger.warning("dead letter", metadata: ["topic": "\(source.partition.topic)", "partition": "\(source.partition.partition)",
                                                 "offset": "\(source.offset)", "reason": "\(letter.reason)", "error": "\(letter.error)"])
        if !isAccounts {
            pendingReferenceDeadLetters.append(letter)
            if pendingReferenceDeadLetters.count > 10_000 {
                pendingReferenceDeadLetters.removeFirst()
                logger.warning("more than 10,000 reference dead letters waiting for the owner of accounts partition 0; dropping the oldest")
            }
            publishReferenceDeadLettersIfOwner()
            return
        }
        metrics.deadLetter(reason: letter.reason)
        batch.outputs.append(.deadLetter(letter))
    }

    /// The owner of accounts partition 0 publishes the reference dead letters seen so far.
    func publishReferenceDeadLettersIfOwner() {
        guard accounts[0] != nil, !pendingReferenceDeadLetters.isEmpty else { return }
        for letter in pendingReferenceDeadLetters {
            metrics.deadLetter(reason: letter.reason)
            batch.outputs.append(.deadLetter(letter))
        }
        pendingReferenceDeadLetters = []
    }
}
