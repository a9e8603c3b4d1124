import Foundation
import KafkaClient
import Logging
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
        self.engine = MarginEngine(configuration: configuration, logger: logger, clock: clock)
        self.flusher = OutputFlusher(engine: engine, outputs: outputs)
    }

    func consumerConfiguration(client: String, group: String?) -> KafkaConsumerConfiguration {
        KafkaConsumerConfiguration(
            common: configuration.kafkaCommon(clientID: client), groupID: group, autoOffsetReset: .earliest,
            sessionTimeoutMs: configuration.sessionTimeoutMs, heartbeatIntervalMs: max(100, configuration.sessionTimeoutMs / 10),
            maxPollIntervalMs: max(60_000, configuration.sessionTimeoutMs * 3), fetchWaitMaxMs: 10, bufferCapacity: 2_000,
            assignmentStartOffset: group == nil ? nil : .beginning, partitionEndEvents: true)
    }

    public func run() async throws {
        logger.info("starting margin worker", metadata: ["instance": "\(configuration.instanceID)", "config": "\n\(configuration.redactedDescription)"])
        let reference = try KafkaConsumer(configuration: consumerConfiguration(client: "\(configuration.instanceID)-reference", group: nil), logger: logger)
        let accounts = try KafkaConsumer(configuration: consumerConfiguration(client: "\(configuration.instanceID)-accounts", group: configuration.group), logger: logger)
        var targets: [TopicPartition: Int64] = [:]
        for partition in try await reference.assignWhole(topics: configuration.topics.reference) {
            targets[partition] = try await reference.watermarks(for: partition).high
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
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in reference.events { await engine.handleReference(event) }
                }
                group.addTask {
                    for await event in accounts.events {
                        if case .partitionsRevoked(let partitions) = event {
                            // The revoked shards stop producing, their last outputs and offsets are
                            // committed, then their state is released.
                            await engine.prepareRevocation(partitions.map(\.partition))
                            await flusher.flush()
                        }
                        guard case .partitionsAssigned(let partitions) = event else {
                            await engine.handleAccounts(event)
                            continue
                        }
                        // Read what the shards restore from here, so that the engine never waits for Kafka.
                        var assignments: [ShardAssignment] = []
                        for partition in partitions {
                            let target: Int64
                            do {
                                target = try await accounts.watermarks(for: partition).high
                            } catch {
                                logger.warning("cannot read the watermarks of \(partition): \(error); restoring to the partition's end")
                                target = .max
                            }
                            let state = await Self.readWhole(configuration: configuration, topic: configuration.topics.liquidationState,
                                                             partition: partition.partition, logger: logger)
                            assignments.append(ShardAssignment(partition: partition, restoreTarget: target, liquidationState: state))
                        }
                        await engine.assignShards(assignments)
                    }
                }
                group.addTask {
                    var subscribed = false
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(configuration.coalesceWindowMs))
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
                logger.info("graceful shutdown: finishing the batch and leaving the group")
                await engine.drain()
                await accounts.close() // revocations finish in-flight work
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

    /// Reads a partition from its beginning to its current end (restores co-partitioned state).
    static func readWhole(configuration: WorkerConfiguration, topic: String, partition: Int32, logger: Logger,
                         kind: String = "liquidation_state") async -> [KafkaMessage] {
        let tp = TopicPartition(topic: topic, partition: partition)
        do {
            let consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(
                common: configuration.kafkaCommon(clientID: "\(configuration.instanceID)-restore"), fetchWaitMaxMs: 10,
                partitionEndEvents: true), logger: logger)
            defer { Task { await consumer.close() } }
            let high = try await consumer.watermarks(for: tp).high
            guard high > 0 else { return [] }
            try consumer.assign([tp: .beginning])
            // Bounded: past `restore_timeout_ms` the consumer is closed (ending its events), logged
            // and counted; what was read is used.
            let timeout = configuration.restoreTimeoutMs
            let watchdog = Task {
                try? await Task.sleep(for: .milliseconds(timeout))
                if !Task.isCancelled { await consumer.close() }
            }
            defer { watchdog.cancel() }
            let start = ContinuousClock.now
            var reachedEnd = false
            var messages: [KafkaMessage] = []
            // Until the partition's end: the last record's offset + 1 can stay below the high
            // watermark for good (a transaction's commit marker is never delivered).
            for await event in consumer.events {
                if case .message(let message) = event {
                    messages.append(message)
                    if message.offset + 1 >= high { reachedEnd = true }
                } else if case .partitionEnd(tp, _) = event {
                    reachedEnd = true
                }
                if reachedEnd { break }
            }
            if !reachedEnd {
                logger.error("restore of \(tp) timed out", metadata: [
                    "after_ms": "\((ContinuousClock.now - start).components.seconds * 1000)", "records": "\(messages.count)", "high": "\(high)"])
                Counter(label: "margin_restore_timeouts_total", dimensions: [("instance", configuration.instanceID), ("kind", kind)]).increment()
            }
            return messages
        } catch {
            logger.warning("cannot restore \(tp): \(error)")
            return []
        }
    }
}
