import Logging
import MarginCore

extension MarginEngine {
    /// Answers the versions a shard's restore read past its ``ShardAssignment/answeredBefore`` and a
    /// later record replaced before the restore completed: each gets a result of its own, margined
    /// against the current markets, queued before the accounts' current versions are published (so
    /// that an account's last result on the topic stays its current one). Versions no previous owner
    /// answered are never left without a result by a handover.
    func answerSuperseded(_ partition: Int32) {
        guard let superseded = accounts.withShard(partition, { $0.takeSuperseded() }), !superseded.isEmpty else { return }
        let snapshot = makeSnapshot()
        var count = 0
        for (id, versions) in superseded.sorted(by: { $0.key < $1.key }) {
            for account in versions {
                let result = snapshot.resultOutput(for: account, health: nil)
                batch.outputs.append(.result(accountID: id, result))
                count += 1
            }
        }
        logger.info("superseded versions answered", metadata: ["partition": "\(partition)", "versions": "\(count)"])
    }
}
