import EngineTestSupport
import Foundation
import KafkaClient
import Logging
import MarginCore
import MarginEngineCore
import MarginSchema
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing
@testable import MarginWorker

/// An embedded cluster with the worker's topics, a producer for inputs, a reader of outputs, and
/// worker instances started and stopped at will.
final class WorkerHarness: Sendable {
    static let logger: Logger = {
        var logger = Logger(label: "worker-test", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = ProcessInfo.processInfo.environment["WORKER_TEST_LOG"] != nil ? .debug : .critical
        return logger
    }()

    let cluster: EmbeddedKafkaCluster
    let producer: KafkaProducer
    let topics = TopicNames()
    let clock: TestClock
    let outputs = OutputRecorder()
    /// Where the outputs reader reached each output partition's end (the watermark of ``caughtUp()``).
    let outputEnds = AwaitableLog<PartitionEnd>()
    private let readerTask: Mutex<Task<Void, Never>?> = Mutex(nil)
    private let reader: KafkaConsumer
    private let outputPartitions: [TopicPartition]

    init(partitions: Int32 = 4, clockStart: Int64 = 1_700_000_000_000) async throws {
        cluster = try EmbeddedKafkaCluster(brokers: 1, logger: Self.logger)
        try WorkerTopology.create(on: cluster, partitions: partitions)
        producer = try KafkaProducer(configuration: KafkaProducerConfiguration(
            common: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, clientID: "inputs", properties: ["log_level": "2"]), lingerMs: 1),
            logger: Self.logger)
        clock = TestClock(clockStart)
        reader = try KafkaConsumer(configuration: KafkaConsumerConfiguration(
            common: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, clientID: "outputs-reader", properties: ["log_level": "2"]),
            readCommitted: true, fetchWaitMaxMs: 10, partitionEndEvents: true), logger: Self.logger)
        outputPartitions = try await reader.assignWhole(topics: [topics.results, topics.liquidations, topics.deadLetter])
        let reader = self.reader, outputs = self.outputs, ends = self.outputEnds
        readerTask.withLock {
            $0 = Task {
                for await event in reader.events {
                    switch event {
                    case .message(let message): await outputs.append(message)
                    case .partitionEnd(let partition, let next): await ends.append(PartitionEnd(partition: partition, next: next))
                    default: break
                    }
                }
            }
        }
    }

    func shutdown() async {
        await reader.close()
        do { try await producer.close() } catch { Issue.record("the inputs producer did not deliver everything: \(error)") }
    }

    func configuration(instance: String, staleAfterMs: Int64 = 3_600_000) -> WorkerConfiguration {
        var configuration = WorkerConfiguration()
        configuration.brokers = cluster.bootstrapServers
        configuration.group = "workers"
        configuration.instanceID = instance
        configuration.coalesceWindow = .milliseconds(20)
        configuration.sessionTimeout = .seconds(4)
        configuration.engine.staleAfter = .milliseconds(staleAfterMs)
        configuration.engine.refreshInterval = .zero
        configuration.kafka = ["log_level": "2"]
        return configuration
    }

    /// A running worker instance.
    final class Instance: Sendable {
        let service: MarginWorkerService
        let group: ServiceGroup
        let task: Task<Void, any Error>

        init(service: MarginWorkerService) {
            self.service = service
            group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: WorkerHarness.logger))
            let group = self.group
            task = Task { try await group.run() }
        }

        func stop() async {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
        }

        var engine: MarginEngine { service.engine }
    }

    func start(_ instance: String, staleAfterMs: Int64 = 3_600_000, configure: (inout WorkerConfiguration) -> Void = { _ in }) -> Instance {
        var configuration = self.configuration(instance: instance, staleAfterMs: staleAfterMs)
        configure(&configuration)
        let clock = self.clock
        return Instance(service: MarginWorkerService(configuration: configuration, logger: Self.logger, clock: { clock.value }))
    }

    // MARK: Watermarks

    /// Returns once the outputs reader has read every output partition up to its high watermark
    /// as of this call: everything published before it is in ``outputs``.
    func caughtUp() async throws {
        var targets: [TopicPartition: Int64] = [:]
        for partition in outputPartitions { targets[partition] = try await reader.watermarks(for: partition).high }
        try await withDeadline(seconds: 30, "the outputs reader at the watermarks \(targets)") { [outputEnds, targets] in
            await outputEnds.wait { ends in
                targets.allSatisfy { target in target.value == 0 || ends.contains { $0.partition == target.key && $0.next >= target.value } }
            }
        }
    }

    /// Lets each instance run `windows` more coalescing windows after it has processed everything
    /// awaited so far, with their outputs published, then waits until the reader has read them:
    /// what has not appeared by then was not emitted (an absence checked against a watermark, not
    /// after a sleep).
    func settle(_ instances: [Instance], windows: Int = 5) async throws {
        for instance in instances {
            let start = await instance.engine.status().ticks
            // One more window than asked: the worker flushes a window's batch before starting the next.
            try await withDeadline(seconds: 30, "\(windows) windows of \(instance.service.configuration.instanceID)") {
                while await instance.engine.status().ticks < start + windows + 1 {
                    try await Task.sleep(for: .milliseconds(5)) // the engine's tick counter has no event to await
                }
            }
        }
        try await caughtUp()
    }

    // MARK: Inputs

    func send(_ topic: String, key: String, value: Data?, json: Bool = false) async throws {
        let headers = json ? [KafkaHeader(name: "content-type", string: "application/json")] : []
        _ = try await producer.send(ProducerRecord(topic: topic, key: Data(key.utf8), value: value, headers: headers))
    }

    func publish(instruments: [Instrument]) async throws {
        for instrument in instruments {
            try await send(topics.instruments, key: instrument.name, value: try SchemaCoding.encode(instrument.proto, format: .protobuf))
        }
    }

    func publish(market: UnderlyingMarket) async throws {
        try await send(topics.market, key: market.underlying, value: try SchemaCoding.encode(market.proto, format: .protobuf))
    }

    func publish(account: Account) async throws {
        try await send(topics.accounts, key: account.id, value: try SchemaCoding.encode(account.proto, format: .protobuf))
    }
}

/// Everything the workers published, with awaitable conditions.
typealias OutputRecorder = AwaitableLog<KafkaMessage>

/// The outputs reader reached a partition's end at `next`.
struct PartitionEnd: Sendable {
    var partition: TopicPartition
    var next: Int64
}

extension [KafkaMessage] {
    func results(topic: String = TopicNames().results) -> [Margin_V1_MarginResult] {
        filter { $0.topic == topic }.compactMap { message in
            message.value.flatMap { try? SchemaCoding.decode(Margin_V1_MarginResult.self, from: $0, format: .init(contentType: message.header("content-type"))) }
        }
    }

    /// The latest result per account.
    func latestResults() -> [String: Margin_V1_MarginResult] {
        var latest: [String: Margin_V1_MarginResult] = [:]
        for result in results() { latest[result.accountID] = result }
        return latest
    }

    func deadLetters() -> [KafkaMessage] { filter { $0.topic == TopicNames().deadLetter } }
}
