import Foundation
import KafkaClient
import MarginCore
import Synchronization
import Testing
@testable import MarginWorker

/// Batches leave the engine one at a time and come back with their outcome (no broker): an aborted
/// batch's outputs go out again first, with the same ids; a committed one updates what was published.
@Suite("Output batches outside the engine")
struct OutputBatchTests {
    @Test("takeBatch hands out one batch at a time; an aborted batch is merged back in front, a committed one applies")
    func takeAndFinish() async throws {
        let (engine, configuration) = try await WorkerHTTPTests.engine() // two accounts margined, results pending
        let first = try #require(await engine.takeBatch())
        #expect(!first.records.isEmpty && first.pendingResults.count == 2)
        #expect(await engine.takeBatch() == nil, "one batch in flight at a time")
        // Meanwhile new outputs accumulate in the next batch.
        let extra = ProducerRecord(topic: configuration.topics.deadLetter, key: Data("x".utf8), value: Data("y".utf8))
        await engine.appendForTest(extra)
        await engine.finishBatch(first, committed: false)
        let retried = try #require(await engine.takeBatch())
        #expect(retried.records.count == first.records.count + 1)
        #expect(retried.records.prefix(first.records.count).map(\.key) == first.records.map(\.key), "the failed outputs go first")
        #expect(retried.records.last?.key == extra.key)
        await engine.finishBatch(retried, committed: true)
        let published = await engine.accounts[0]?.accounts.values.compactMap(\.published).count
        #expect(published == 2)
        #expect(await engine.takeBatch() == nil, "nothing pending")
    }

    @Test("OutputFlusher publishes through the publisher and reports back; flushes queue behind each other")
    func flusher() async throws {
        var configuration = WorkerConfiguration()
        configuration.instanceID = "flush"
        let seen = Mutex<[Int]>([])
        let outputs = OutputPublisher(configuration: configuration, logger: WorkerHarness.logger) { records in
            seen.withLock { $0.append(records.count) }
        }
        let (engine, _) = try await WorkerHTTPTests.engine()
        let flusher = OutputFlusher(engine: engine, outputs: outputs)
        async let a: Void = flusher.flush()
        async let b: Void = flusher.flush()
        _ = await (a, b)
        #expect(seen.withLock { $0 }.count == 1, "one batch was pending: published once")
        #expect(await engine.accounts[0]?.accounts.values.compactMap(\.published).count == 2)
        #expect(await engine.takeBatch() == nil)
    }
}

extension MarginEngine {
    func appendForTest(_ record: ProducerRecord) { batch.records.append(record) }
}
