import Foundation
import Testing
import KafkaClient
import TestSupport

@Suite("Fault injection and statistics", .serialized)
struct FaultInjectionTests {
    @Test("Leader moves, a broker outage and request delays are survived without losing records")
    func leaderMoveAndOutage() async throws {
        let cluster = try KafkaTestSupport.cluster(brokers: 3, topics: ["ticks": 1])
        let producer = try KafkaTestSupport.producer(cluster)
        for index in 0..<5 { _ = try await producer.send(ProducerRecord(topic: "ticks", key: "a\(index)", value: Data([1]))) }
        try cluster.setLeader(topic: "ticks", partition: 0, broker: 2)
        try cluster.setRoundTripTime(broker: 2, milliseconds: 50)
        try cluster.setBroker(3, up: false)
        for index in 0..<5 { _ = try await producer.send(ProducerRecord(topic: "ticks", key: "b\(index)", value: Data([2]))) }
        try cluster.setBroker(3, up: true)
        try cluster.setRoundTripTime(broker: 2, milliseconds: 0)
        // A retriable produce error is retried by the idempotent producer.
        cluster.injectErrors(.produce, [.notEnoughReplicas, .notEnoughReplicas])
        _ = try await producer.send(ProducerRecord(topic: "ticks", key: "c0", value: Data([3])))
        try await producer.close()
        let messages = try await TransactionTests.readAll(cluster, topic: "ticks", count: 11)
        #expect(Set(messages.compactMap { $0.key.map { String(decoding: $0, as: UTF8.self) } }).count == 11)
    }

    @Test("librdkafka statistics report consumer lag per partition (against the committed offset)")
    func consumerLagFromStatistics() async throws {
        let cluster = try KafkaTestSupport.cluster(topics: ["lagging": 1])
        let producer = try KafkaTestSupport.producer(cluster)
        for index in 0..<30 { try await producer.enqueue(ProducerRecord(topic: "lagging", key: "k\(index)", value: Data([0]))) }
        try await producer.flush()
        try await producer.close()
        var configuration = KafkaTestSupport.consumerConfiguration(cluster, group: "lag-group", client: "lag", capacity: 4)
        configuration.common.statisticsIntervalMs = 100
        let consumer = try KafkaConsumer(configuration: configuration, logger: KafkaTestSupport.logger)
        let partition = TopicPartition(topic: "lagging", partition: 0)
        try consumer.assign([partition: .beginning])
        // Consume a few, then wait (bounded) for a statistics report naming the partition's lag.
        var iterator = consumer.events.makeAsyncIterator()
        var consumed = 0
        while consumed < 3, let event = await iterator.next() {
            if case .message(let message) = event {
                consumed += 1
                try consumer.storeOffset(after: message)
            }
        }
        try await consumer.commit()
        // Two more reports: the second was taken entirely after the commit.
        let committedAt = consumer.statisticsReportCount
        try await withDeadline(seconds: 10, "two statistics reports after the commit") {
            while consumer.statisticsReportCount < committedAt + 2 {
                try await Task.sleep(for: .milliseconds(20)) // statistics arrive on a timer; there is no event to await
            }
        }
        #expect(consumer.consumerLag[partition] == 27) // 30 records, 3 committed
        await consumer.close()
    }
}
