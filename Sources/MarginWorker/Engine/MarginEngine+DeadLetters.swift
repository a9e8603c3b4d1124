import Logging
import KafkaClient
import MarginCore

extension MarginEngine {
    /// Dead-letters an invalid record with a deterministic id (topic, partition, offset). An accounts
    /// record is dead-lettered by whichever instance reads it, also while restoring a shard (it may
    /// never have been seen by a live owner: a replay repeats the same id, none goes missing).
    /// Reference records are read by every instance: only the owner of accounts partition 0
    /// publishes their dead letters; the others keep them until they own it.
    func deadLetter(_ message: KafkaMessage, _ error: any Error) {
        let reason = (error as? MarginError)?.code ?? "invalid_input"
        let text = (error as? MarginError)?.description ?? "\(error)"
        let record = encoder.deadLetter(message, reason: reason, error: text)
        logger.warning("dead letter", metadata: ["topic": "\(message.topic)", "partition": "\(message.partition)",
                                                 "offset": "\(message.offset)", "reason": "\(reason)", "error": "\(text)"])
        if message.topic != configuration.topics.accounts {
            pendingReferenceDeadLetters.append((record, reason))
            if pendingReferenceDeadLetters.count > 10_000 {
                pendingReferenceDeadLetters.removeFirst()
                logger.warning("more than 10,000 reference dead letters waiting for the owner of accounts partition 0; dropping the oldest")
            }
            publishReferenceDeadLettersIfOwner()
            return
        }
        metrics.deadLetter(reason: reason)
        batch.records.append(record)
    }

    /// The owner of accounts partition 0 publishes the reference dead letters seen so far.
    func publishReferenceDeadLettersIfOwner() {
        guard accounts[0] != nil, !pendingReferenceDeadLetters.isEmpty else { return }
        for (record, reason) in pendingReferenceDeadLetters {
            metrics.deadLetter(reason: reason)
            batch.records.append(record)
        }
        pendingReferenceDeadLetters = []
    }
}
