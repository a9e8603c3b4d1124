import Foundation
import KafkaClient
import Logging
import MarginSchema
import SwiftProtobuf
import Synchronization

/// Publishes the engine's batches (encoded by ``OutputEncoder``): in one Kafka transaction with the consumed offsets
/// (default), or produce-then-commit when transactions are disabled.
public final class OutputPublisher: Sendable {
    let configuration: WorkerConfiguration
    let logger: Logger
    private let producer = Mutex<KafkaProducer?>(nil)
    private let consumer = Mutex<KafkaConsumer?>(nil)
    /// In-process destination instead of Kafka (the worker benchmark): receives each batch's
    /// records, and the batch counts as committed.
    private let sink: (@Sendable ([ProducerRecord]) -> Void)?

    public init(configuration: WorkerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.sink = nil
    }

    /// A publisher that hands every batch to `sink` and treats it as committed (no Kafka).
    public init(configuration: WorkerConfiguration, logger: Logger, sink: @escaping @Sendable ([ProducerRecord]) -> Void) {
        self.configuration = configuration
        self.logger = logger
        self.sink = sink
    }

    var transactionalID: String { "\(configuration.group)-\(configuration.instanceID)" }

    /// Creates the producer (and registers its transactional id).
    public func start(accountsConsumer: KafkaConsumer) async throws {
        consumer.withLock { $0 = accountsConsumer }
        try await recreateProducer()
    }

    private func recreateProducer() async throws {
        let old = producer.withLock { current -> KafkaProducer? in
            defer { current = nil }
            return current
        }
        if let old { await old.close(timeoutMs: 1_000) }
        let created = try KafkaProducer(configuration: KafkaProducerConfiguration(
            common: configuration.kafkaCommon(clientID: "\(configuration.instanceID)-out"),
            transactionalID: configuration.transactional ? transactionalID : nil, lingerMs: 2,
            transactionTimeoutMs: 60_000), logger: logger)
        if configuration.transactional { try await created.initTransactions() }
        producer.withLock { $0 = created }
    }

    public func close() async {
        let current = producer.withLock { p -> KafkaProducer? in
            defer { p = nil }
            return p
        }
        await current?.close()
    }

    /// Publishes a batch; true when it is committed.
    func publish(_ batch: OutputBatch) async -> Bool {
        if let sink {
            sink(batch.records)
            return true
        }
        guard let producer = producer.withLock({ $0 }) else { return false }
        let consumer = consumer.withLock { $0 }
        if !configuration.transactional {
            do {
                for record in batch.records { try await producer.enqueue(record) }
                try await producer.flush()
                if !batch.offsets.isEmpty { try await consumer?.commit(batch.offsets) }
                return true
            } catch {
                logger.error("publishing a batch failed; it will be retried", metadata: ["error": "\(error)"])
                return false
            }
        }
        do {
            try producer.beginTransaction()
            for record in batch.records { try await producer.enqueue(record) }
            if !batch.offsets.isEmpty, let consumer {
                try await producer.sendOffsetsToTransaction(batch.offsets, groupMetadata: try consumer.groupMetadata())
            }
            try await producer.commitTransactionRetrying()
            return true
        } catch {
            logger.error("transaction failed; the batch will be retried with the same ids",
                         metadata: ["error": "\(error)", "kind": "\(error.kind.rawValue)"])
            if error.kind == .fatal {
                do { try await recreateProducer() } catch { logger.critical("cannot recreate the producer: \(error)") }
            } else {
                do { try await producer.abortTransaction() } catch {
                    logger.error("abort failed: \(error)")
                    if error.kind == .fatal { try? await recreateProducer() }
                }
            }
            return false
        }
    }
}
