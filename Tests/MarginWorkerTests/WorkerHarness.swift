import Foundation
import KafkaClient
import Logging
import MarginCore
import MarginSchema
import ServiceLifecycle
import Synchronization
import TestSupport
@testable import MarginWorker

/// A test clock the engine reads (Unix ms), advanced by tests.
final class TestClock: Sendable {
    let now: Atomic<Int64>
    init(_ start: Int64) { now = Atomic(start) }
    func advance(_ ms: Int64) { now.add(ms, ordering: .relaxed) }
    var value: Int64 { now.load(ordering: .relaxed) }
}

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
    private let readerTask: Mutex<Task<Void, Never>?> = Mutex(nil)
    private let reader: KafkaConsumer

    init(partitions: Int32 = 4, clockStart: Int64 = 1_700_000_000_000) async throws {
        cluster = try EmbeddedKafkaCluster(brokers: 1, logger: Self.logger)
        try WorkerTopology.create(on: cluster, partitions: partitions)
        producer = try KafkaProducer(configuration: KafkaProducerConfiguration(
            common: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, clientID: "inputs", properties: ["log_level": "2"]), lingerMs: 1),
            logger: Self.logger)
        clock = TestClock(clockStart)
        reader = try KafkaConsumer(configuration: KafkaConsumerConfiguration(
            common: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, clientID: "outputs-reader", properties: ["log_level": "2"]),
            readCommitted: true, fetchWaitMaxMs: 10), logger: Self.logger)
        try await reader.assignWhole(topics: [topics.results, topics.liquidations, topics.deadLetter])
        let reader = self.reader, outputs = self.outputs
        readerTask.withLock { $0 = Task { for await event in reader.events { if case .message(let m) = event { await outputs.append(m) } } } }
    }

    func shutdown() async {
        await reader.close()
        await producer.close()
    }

    func configuration(instance: String, staleAfterMs: Int64 = 3_600_000) -> WorkerConfiguration {
        var configuration = WorkerConfiguration()
        configuration.brokers = cluster.bootstrapServers
        configuration.group = "workers"
        configuration.instanceID = instance
        configuration.coalesceWindowMs = 20
        configuration.sessionTimeoutMs = 4_000
        configuration.staleAfterMs = staleAfterMs
        configuration.refreshIntervalMs = 0
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

    // MARK: Inputs

    func send(_ topic: String, key: String, value: Data?, json: Bool = false) async throws {
        let headers = json ? [KafkaHeader(name: "content-type", string: "application/json")] : []
        _ = try await producer.send(ProducerRecord(topic: topic, key: Data(key.utf8), value: value, headers: headers))
    }

    func publish(instruments: [Instrument]) async throws {
        for instrument in instruments {
            try await send(topics.instruments, key: instrument.name, value: SchemaCoding.encode(instrument.proto, format: .protobuf))
        }
    }

    func publish(market: UnderlyingMarket) async throws {
        try await send(topics.market, key: market.underlying, value: SchemaCoding.encode(market.proto, format: .protobuf))
    }

    func publish(account: Account) async throws {
        try await send(topics.accounts, key: account.id, value: SchemaCoding.encode(account.proto, format: .protobuf))
    }
}

/// Everything the workers published, with awaitable conditions.
typealias OutputRecorder = AwaitableLog<KafkaMessage>

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

/// A small two-underlying world: BTC options and perpetual, ETH perpetual.
enum TestWorld {
    static let expiry: Int64 = 1_700_000_000_000 + 30 * 86_400_000

    static var instruments: [Instrument] {
        [
            Instrument(name: "BTC", underlying: "BTC", kind: .spot),
            Instrument(name: "ETH", underlying: "ETH", kind: .spot),
            Instrument(name: "USDC", underlying: "USDC", kind: .spot),
            Instrument(name: "BTC-PERPETUAL", underlying: "BTC", kind: .perpetual, lotSize: 0.001),
            Instrument(name: "ETH-PERPETUAL", underlying: "ETH", kind: .perpetual, lotSize: 0.01),
            Instrument(name: "BTC-C-60000", underlying: "BTC", kind: .option(expiryMs: expiry, strike: 60_000, right: .call), lotSize: 0.1),
            Instrument(name: "BTC-P-55000", underlying: "BTC", kind: .option(expiryMs: expiry, strike: 55_000, right: .put), lotSize: 0.1),
        ]
    }

    static func btc(index: Double, at timestamp: Int64, confidence: Double = 1) -> UnderlyingMarket {
        UnderlyingMarket(underlying: "BTC", timestampMs: timestamp, indexPrice: index, indexConfidence: confidence,
                         expiries: [ExpiryMarket(expiryMs: expiry, forward: index * 1.004, rate: 0.03,
                                                 smile: SVIParameters(a: 0.02, b: 0.05, rho: -0.2, m: 0, sigma: 0.2))],
                         perpetualMark: index, books: ["BTC-PERPETUAL": TopOfBook(bidPrice: index - 5, bidSize: 50, askPrice: index + 5, askSize: 50)])
    }

    static func eth(index: Double, at timestamp: Int64) -> UnderlyingMarket {
        UnderlyingMarket(underlying: "ETH", timestampMs: timestamp, indexPrice: index, perpetualMark: index,
                         books: ["ETH-PERPETUAL": TopOfBook(bidPrice: index - 0.5, bidSize: 500, askPrice: index + 0.5, askSize: 500)])
    }

    static func usdc(at timestamp: Int64) -> UnderlyingMarket {
        UnderlyingMarket(underlying: "USDC", timestampMs: timestamp, indexPrice: 1)
    }

    /// BTC accounts b0…, ETH accounts e0….
    static func accounts(btc: Int, eth: Int, version: UInt64 = 1) -> [Account] {
        (0..<btc).map { i in
            Account(id: "b\(i)", version: version, balances: ["USDC": 50_000 + Double(i) * 1_000],
                    positions: [Position(instrument: "BTC-C-60000", quantity: -2 - Double(i)),
                                Position(instrument: "BTC-PERPETUAL", quantity: 0.5, averageEntryPrice: 59_000)])
        } + (0..<eth).map { i in
            Account(id: "e\(i)", version: version, balances: ["USDC": 20_000],
                    positions: [Position(instrument: "ETH-PERPETUAL", quantity: 10 + Double(i), averageEntryPrice: 3_000)])
        }
    }
}
