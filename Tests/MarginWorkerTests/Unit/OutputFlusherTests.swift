import EngineTestSupport
import KafkaClient
import MarginCore
import MarginEngineCore
import Synchronization
import Testing
@testable import MarginWorker

/// The engine's batches published outside the engine (an in-process sink instead of Kafka).
@Suite("Output flusher")
struct OutputFlusherTests {
    @Test("OutputFlusher publishes through the publisher and reports back; flushes queue behind each other")
    func flusher() async throws {
        var configuration = WorkerConfiguration()
        configuration.instanceID = "flush"
        let seen = Mutex<[[ProducerRecord]]>([])
        let outputs = OutputPublisher(configuration: configuration, logger: EngineFixture.logger) { records in
            seen.withLock { $0.append(records) }
        }
        let engine = await EngineFixture.engine(accounts: TestWorld.accounts(btc: 1, eth: 1))
        let flusher = OutputFlusher(engine: engine, outputs: outputs)
        async let a: Void = flusher.flush()
        async let b: Void = flusher.flush()
        _ = await (a, b)
        let batches = seen.withLock { $0 }
        #expect(batches.count == 1, "one batch was pending: published once")
        #expect(batches.first?.filter { $0.topic == configuration.topics.results }.count == 2, "both results encoded")
        #expect(await engine.currentResult(accountID: "b0") != nil)
        #expect(await engine.takeBatch() == nil, "committed: nothing pending")
    }
}
