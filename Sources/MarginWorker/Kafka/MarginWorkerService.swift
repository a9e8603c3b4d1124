import Foundation
import KafkaClient
import Logging
import MarginEngineCore
import MarginSchema
import Metrics
import ServiceLifecycle

/// `margin-engine run`: one worker instance as a `Service` (swift-service-lifecycle).
///
/// Start-up: read the reference topics whole (manual assignment from the beginning up to their
/// high watermarks), then join the accounts consumer group. Each assigned partition is restored
/// from its beginning (and its liquidation state from the co-partitioned state topic) before it
/// produces output. Graceful shutdown: stop fetching, finish and commit the batch, leave the
/// group, exit.
public final class MarginWorkerService: Service, Sendable {
    public let configuration: WorkerConfiguration
    public let engine: MarginEngine
    let outputs: OutputPublisher
    /// Publishes the engine's batches outside the engine (after each tick, before a revocation,
    /// at shutdown).
    let flusher: OutputFlusher
    let logger: Logger

    public init(configuration: WorkerConfiguration, logger: Logger,
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.configuration = configuration
        self.logger = logger
        self.outputs = OutputPublisher(configuration: configuration, logger: logger)
        self.engine = MarginEngine(settings: configuration.engine, preset: try? RiskPresets.load(configuration.paramsID), logger: logger,
                                   clock: clock)
        self.flusher = OutputFlusher(engine: engine, outputs: outputs)
    }

    func consumerConfiguration(client: String, group: String?) -> KafkaConsumerConfiguration {
        KafkaConsumerConfiguration(
            common: configuration.kafkaCommon(clientID: client), groupID: group, autoOffsetReset: .earliest,
            sessionTimeoutMs: Int(configuration.sessionTimeout.milliseconds),
            heartbeatIntervalMs: max(100, Int(configuration.sessionTimeout.milliseconds) / 10),
            maxPollIntervalMs: max(60_000, Int(configuration.sessionTimeout.milliseconds) * 3), fetchWaitMaxMs: 10, bufferCapacity: 2_000,
            assignmentStartOffset: group == nil ? nil : .beginning, partitionEndEvents: true)
    }

    public func run() async throws {
        logger.info("starting margin worker", metadata: ["instance": "\(configuration.instanceID)", "config": "\n\(configuration.redactedDescription)"])
        let reference = try KafkaConsumer(configuration: consumerConfiguration(client: "\(configuration.instanceID)-reference", group: nil), logger: logger)
        let accounts = try KafkaConsumer(configuration: consumerConfiguration(client: "\(configuration.instanceID)-accounts", group: configuration.group), logger: logger)
        var targets: [InputPartition: Int64] = [:]
        for partition in try await reference.assignWhole(topics: configuration.topics.reference) {
            targets[InputPartition(topic: partition.topic, partition: partition.partition)] = try await reference.watermarks(for: partition).high
        }
        await engine.setReferenceTargets(targets)
        // The budget share of this instance is its partitions over all of them.
        do {
            await engine.setAccountsPartitionCount(try await accounts.partitions(of: configuration.topics.accounts).count)
        } catch {
            logger.warning("cannot read the partition count of \(configuration.topics.accounts): \(error); the budget share stays 1")
        }
        try await outputs.start(accountsConsumer: accounts)

        let engine = self.engine
        let flusher = self.flusher
        let configuration = self.configuration
        let logger = self.logger
        let decoder = InputDecoder(topics: configuration.topics, bounds: configuration.inputBounds)
        let assignmentReader = ShardAssignmentReader(configuration: configuration, logger: logger)
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.forwardReference(reference, decoder: decoder) }
                group.addTask { await self.forwardAccounts(accounts, decoder: decoder, assignmentReader: assignmentReader) }
                group.addTask {
                    var subscribed = false
                    while !Task.isCancelled {
                        try? await Task.sleep(for: configuration.coalesceWindow)
                        if Task.isCancelled { break }
                        if !subscribed, await engine.referenceReady {
                            do {
                                try accounts.subscribe(topics: [configuration.topics.accounts])
                                subscribed = true
                            } catch {
                                logger.critical("cannot subscribe to \(configuration.topics.accounts): \(error)")
                            }
                        }
                        await engine.tick()
                        await flusher.flush()
                    }
                }
                // Wait for shutdown (cancellation by the graceful handler).
                await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            Task {
                logger.info("graceful shutdown: committing the last batch, then leaving the group")
                // Nothing new is processed; what is pending is committed while the consumer still
                // has its group metadata (the transaction needs it), and only then is the group left
                // (its revocation finds nothing left to publish).
                await engine.drain()
                await flusher.flush()
                await accounts.close()
                await flusher.flush()
                await reference.close()
            }
        }
        await accounts.close()
        await flusher.flush()
        await reference.close()
        await outputs.close()
        logger.info("margin worker stopped")
    }
}
