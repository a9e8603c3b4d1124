import Logging
import KafkaClient

extension MarginEngine {
    /// Reports restores that take longer than `restore_timeout_ms` (once each): an error log and
    /// `margin_restore_timeouts_total{kind}`. The restore goes on; the instance stays not ready.
    func reportRestoreTimeouts(now: Int64) {
        let timeout = configuration.restoreTimeoutMs
        if !referenceReady, !referenceTimeoutReported, let start = referenceRestoreStartMs, now - start > timeout {
            referenceTimeoutReported = true
            let behind = referenceTargets.filter { (referencePositions[$0.key] ?? 0) < $0.value }.keys.sorted()
            logger.error("reference restore timed out", metadata: [
                "after_ms": "\(now - start)", "partitions": "\(behind.map(\.description).joined(separator: ","))"])
            metrics.restoreTimeout(kind: "reference")
        }
        for (partition, shard) in shards where !shard.restored && !shard.restoreTimeoutReported && now - shard.assignedAtMs > timeout {
            shards[partition]!.restoreTimeoutReported = true
            logger.error("shard restore timed out", metadata: [
                "partition": "\(partition)", "position": "\(shard.nextOffset)", "target": "\(shard.restoreTarget)",
                "after_ms": "\(now - shard.assignedAtMs)"])
            metrics.restoreTimeout(kind: "accounts")
        }
    }
}
