import CRdKafka
import Logging
import Synchronization

/// Transactions: outputs and consumed offsets committed atomically.
///
/// Every failure is a ``KafkaError`` whose ``KafkaError/kind`` says what to do: `retriable` —
/// call the same method again (a timed-out commit must be retried, never followed by a new
/// transaction); `abortable` — ``abortTransaction(timeoutMs:)``, rewind the consumer to its last
/// committed offsets and redo the batch; `fatal` — the producer is fenced or broken: stop using
/// it and create a new one.
extension KafkaProducer {
    /// Registers the transactional id with the coordinator (once, before the first transaction).
    public func initTransactions(timeoutMs: Int = 30_000) async throws(KafkaError) {
        try await transactional("init_transactions") { rk in rd_kafka_init_transactions(rk, Int32(timeoutMs)) }
    }

    public func beginTransaction() throws(KafkaError) {
        if let error = rd_kafka_begin_transaction(handle.pointer) { throw KafkaError(consuming: error) }
    }

    /// Adds the consumer's next offsets to the transaction (committed with it).
    public func sendOffsetsToTransaction(_ offsets: [TopicPartition: KafkaOffset], groupMetadata: KafkaConsumerGroupMetadata,
                                         timeoutMs: Int = 30_000) async throws(KafkaError) {
        let entries = offsets.sorted { $0.key < $1.key }.map { ($0.key, Optional($0.value)) }
        try await transactional("send_offsets_to_transaction") { rk in
            TopicPartitionList.with(entries) { list in
                rd_kafka_send_offsets_to_transaction(rk, list, groupMetadata.pointer, Int32(timeoutMs))
            }
        }
    }

    /// Flushes and commits the transaction.
    public func commitTransaction(timeoutMs: Int = 30_000) async throws(KafkaError) {
        try await transactional("commit_transaction") { rk in rd_kafka_commit_transaction(rk, Int32(timeoutMs)) }
        handle.context.deliveryFailures.withLock { $0 = [] }
    }

    /// Aborts the transaction: its records are marked aborted and its offsets discarded.
    public func abortTransaction(timeoutMs: Int = 30_000) async throws(KafkaError) {
        try await transactional("abort_transaction") { rk in rd_kafka_abort_transaction(rk, Int32(timeoutMs)) }
        handle.context.deliveryFailures.withLock { $0 = [] }
    }

    /// Commits, retrying retriable failures (a timed-out commit is retried, as librdkafka
    /// requires) up to `attempts` times; abortable and fatal errors are thrown for the caller.
    public func commitTransactionRetrying(attempts: Int = 5, timeoutMs: Int = 30_000) async throws(KafkaError) {
        var attempt = 1
        while true {
            do {
                try await commitTransaction(timeoutMs: timeoutMs)
                return
            } catch where error.kind == .retriable && attempt < attempts {
                logger.warning("transaction commit will be retried: \(error)")
                attempt += 1
            }
        }
    }

    private func transactional(_ name: String, _ call: @escaping @Sendable (OpaquePointer) -> OpaquePointer?) async throws(KafkaError) {
        try await handle.blocking { (rk) -> Result<Void, KafkaError> in
            if let error = call(rk) { return .failure(KafkaError(consuming: error)) }
            return .success(())
        }
    }
}
