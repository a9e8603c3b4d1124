import EngineTestSupport
import Foundation
import KafkaClient
import MarginEngineCore
import TestSupport
import Testing
@testable import MarginWorker

/// The embedded broker keeps about 5 MiB per partition; the monitor notices when it dropped records.
@Suite("Embedded broker log start", .tags(.broker))
struct EmbeddedLogStartTests {
    @Test("Writing well over 5 MiB to one partition moves its log start, and the monitor reports it")
    func monitorReportsDroppedRecords() async throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: WorkerHarness.logger)
        try cluster.createTopic("big", partitions: 1)
        try cluster.createTopic("small", partitions: 1)
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(
            common: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, clientID: "filler", properties: ["log_level": "2"]), lingerMs: 5),
            logger: WorkerHarness.logger)
        let payload = Data(repeating: 0x42, count: 16 * 1024)
        for i in 0..<640 { try await producer.enqueue(ProducerRecord(topic: "big", key: "k\(i)", value: payload)) }  // 10 MiB
        _ = try await producer.send(ProducerRecord(topic: "small", key: "k", value: payload))
        try await producer.flush()
        try await producer.close()
        let monitor = try EmbeddedLogStartMonitor(bootstrapServers: cluster.bootstrapServers, topics: ["big", "small"], logger: WorkerHarness.logger)
        let moved = await monitor.check()
        await monitor.close()
        #expect(moved.keys.map(\.topic) == ["big"])
        #expect((moved.values.first ?? 0) > 0)
    }
}
