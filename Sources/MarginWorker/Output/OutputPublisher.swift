import Foundation
import KafkaClient
import Logging
import MarginCore
import MarginEngineCore
import MarginSchema
import Metrics
import SwiftProtobuf
import Synchronization

/// How publishing one batch ended.
public enum PublishOutcome: Sendable {
    /// Outputs and positions are committed.
    case committed
    /// Nothing is committed; the engine takes the batch back and publishes it again (same ids).
    case failed(KafkaError)
    /// The publisher has no producer (not started, or closed).
    case notStarted

    public var isCommitted: Bool {
        if case .committed = self { return true }
        return false
    }
}

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
        if let old {
            // A fenced or failed producer: what it still held is re-sent by the batch retry (same ids).
            do { try await old.close(timeoutMs: 1_000) } catch { logger.warning("the replaced producer did not flush", metadata: ["error": "\(error)"]) }
        }
        let created = try KafkaProducer(configuration: KafkaProducerConfiguration(
            common: configuration.kafkaCommon(clientID: "\(configuration.instanceID)-out"),
            transactionalID: configuration.transactional ? transactionalID : nil, lingerMs: 2,
            transactionTimeoutMs: 60_000), logger: logger)
        if configuration.transactional { try await created.initTransactions() }
        producer.withLock { $0 = created }
    }

    /// Closes the producer. Every batch was committed or aborted before (transactions flush), so a
    /// flush failure here is reported, not lost: it names records that were not delivered.
    public func close() async {
        let current = producer.withLock { p -> KafkaProducer? in
            defer { p = nil }
            return p
        }
        do { try await current?.close() } catch {
            logger.error("the output producer closed with undelivered records", metadata: ["error": "\(error)"])
        }
    }

    /// The batch's records: each output encoded, in order, in chunks on every core (the protobuf
    /// conversion and encoding of a tick's results is most of its cost after the pass). An output
    /// that cannot be encoded is never published empty: a result is replaced by the account's error
    /// result (`numerical`), anything else is left out with a critical log and
    /// `margin_encoding_failures_total`.
    func records(of batch: OutputBatch) -> [ProducerRecord] {
        let encoder = OutputEncoder(topics: configuration.topics, format: configuration.format)
        let instanceID = configuration.instanceID
        let logger = logger
        var records = MarginEngine.parallelChunks(batch.outputs, minimumChunk: 128) { outputs in
            var records: [ProducerRecord] = []
            records.reserveCapacity(outputs.count)
            for output in outputs { Self.append(output, to: &records, encoder: encoder, instanceID: instanceID, logger: logger) }
            return records
        }
        // Each partition's answered position, committed with the outputs (``ConsumedPosition``).
        for (partition, next) in batch.answeredPositions.sorted(by: { $0.key < $1.key }) {
            records.append(ConsumedPosition.record(topic: configuration.topics.liquidationState, partition: partition, nextOffset: next))
        }
        return records
    }

    /// Appends one output's records (see ``records(of:)``).
    static func append(_ output: EngineOutput, to records: inout [ProducerRecord], encoder: OutputEncoder, instanceID: String, logger: Logger) {
        do {
            try encoder.append(output, to: &records)
        } catch {
            Counter(label: "margin_encoding_failures_total", dimensions: [("instance", instanceID)]).increment()
            logger.critical("an output cannot be encoded", metadata: ["error": "\(error)"])
            if case .result(let accountID, .full(let id, let result)) = output,
               let record = try? encoder.record(of: .error(id: id, account: Account(id: result.accountId, version: result.accountVersion),
                                                           parameterSet: ParameterSetIdentity(id: result.parameterSetId, version: result.parameterSetVersion,
                                                                                              valuationAsset: result.valuationAsset),
                                                           error: error), accountID: accountID) {
                records.append(record)
            }
        }
    }

    /// The batch's consumed positions as Kafka offsets of the accounts topic.
    func offsets(of batch: OutputBatch) -> [TopicPartition: KafkaOffset] {
        Dictionary(uniqueKeysWithValues: batch.positions.map { (TopicPartition(topic: configuration.topics.accounts, partition: $0.key), KafkaOffset($0.value)) })
    }

    /// Publishes a batch in one transaction with its positions (or produce-then-commit).
    func publish(_ batch: OutputBatch) async -> PublishOutcome {
        let records = records(of: batch)
        if let sink {
            sink(records)
            return .committed
        }
        guard let producer = producer.withLock({ $0 }) else { return .notStarted }
        let consumer = consumer.withLock { $0 }
        let offsets = offsets(of: batch)
        if !configuration.transactional {
            do {
                for record in records { try await producer.enqueue(record) }
                try await producer.flush()
                if !offsets.isEmpty { try await consumer?.commit(offsets) }
                return .committed
            } catch {
                logger.error("publishing a batch failed; it will be retried", metadata: ["error": "\(error)"])
                return .failed(error)
            }
        }
        do {
            try producer.beginTransaction()
            for record in records { try await producer.enqueue(record) }
            if !offsets.isEmpty, let consumer {
                try await producer.sendOffsetsToTransaction(offsets, groupMetadata: try consumer.groupMetadata())
            }
            try await producer.commitTransactionRetrying()
            return .committed
        } catch {
            logger.error("transaction failed; the batch will be retried with the same ids",
                         metadata: ["error": "\(error)", "kind": "\(error.kind.rawValue)"])
            if error.kind == .fatal {
                do { try await recreateProducer() } catch { logger.critical("cannot recreate the producer: \(error)") }
            } else {
                do { try await producer.abortTransaction() } catch {
                    logger.error("abort failed: \(error)")
                    if error.kind == .fatal {
                        do { try await recreateProducer() } catch { logger.critical("cannot recreate the producer: \(error)") }
                    }
                }
            }
            return .failed(error)
        }
    }
}
