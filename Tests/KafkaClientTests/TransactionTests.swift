import Foundation
import Testing
import KafkaClient
import TestSupport

@Suite("Transactions on the embedded broker", .serialized)
struct TransactionTests {
    static func readAll(_ cluster: EmbeddedKafkaCluster, topic: String, count: Int) async throws -> [KafkaMessage] {
        let consumer = try KafkaConsumer(configuration: KafkaTestSupport.consumerConfiguration(cluster, group: nil, client: "verify-\(topic)"),
                                         logger: KafkaTestSupport.logger)
        try consumer.assign([TopicPartition(topic: topic, partition: 0): .beginning])
        let messages = try await withDeadline(seconds: 30, "\(count) records on \(topic)") {
            var collected: [KafkaMessage] = []
            for await event in consumer.events {
                if case .message(let message) = event { collected.append(message) }
                if collected.count >= count { break }
            }
            return collected
        }
        await consumer.close()
        return messages
    }

    @Test("Committed transactional records are delivered")
    func committedDataIsDelivered() async throws {
        let cluster = try KafkaTestSupport.cluster(topics: ["results": 1])
        let producer = try KafkaTestSupport.producer(cluster, transactionalID: "worker-txn-1")
        try await producer.initTransactions()
        try producer.beginTransaction()
        for index in 0..<10 { try await producer.enqueue(ProducerRecord(topic: "results", key: "a\(index)", value: Data("r\(index)".utf8))) }
        try await producer.commitTransactionRetrying()
        let messages = try await Self.readAll(cluster, topic: "results", count: 10)
        #expect(messages.map { String(decoding: $0.value ?? Data(), as: UTF8.self) } == (0..<10).map { "r\($0)" })
        try await producer.close()
    }

    @Test("An abortable error leads to abort, rewind to the committed position and a successful retry")
    func abortableErrorAbortsAndRewinds() async throws {
        let cluster = try KafkaTestSupport.cluster(topics: ["input": 1, "output": 1])
        let seed = try KafkaTestSupport.producer(cluster, client: "seed")
        for index in 0..<5 { try await seed.enqueue(ProducerRecord(topic: "input", key: "k\(index)", value: Data("in\(index)".utf8))) }
        try await seed.flush()
        try await seed.close()

        let input = TopicPartition(topic: "input", partition: 0)
        let consumer = try KafkaConsumer(configuration: KafkaTestSupport.consumerConfiguration(cluster, group: "txn-group", client: "txn-consumer"),
                                         logger: KafkaTestSupport.logger)
        try consumer.assign([input: .beginning])
        let producer = try KafkaTestSupport.producer(cluster, transactionalID: "worker-txn-2")
        try await producer.initTransactions()

        func processBatch() async throws -> [KafkaMessage] {
            let batch = try await withDeadline(seconds: 30, "5 input records") {
                var collected: [KafkaMessage] = []
                var iterator = consumer.events.makeAsyncIterator()
                while collected.count < 5, let event = await iterator.next() {
                    if case .message(let message) = event { collected.append(message) }
                }
                return collected
            }
            try producer.beginTransaction()
            for message in batch {
                try await producer.enqueue(ProducerRecord(topic: "output", key: message.key, value: message.value))
            }
            try await producer.sendOffsetsToTransaction([input: KafkaOffset(batch.last!.offset + 1)], groupMetadata: try consumer.groupMetadata())
            try await producer.commitTransactionRetrying()
            return batch
        }

        // The partition registration of the first transaction is refused: the transaction must abort.
        cluster.injectErrors(.addPartitionsToTxn, [.topicAuthorizationFailed])
        var caught: KafkaError?
        do {
            _ = try await processBatch()
        } catch let error as KafkaError {
            caught = error
        }
        let failure = try #require(caught)
        #expect(failure.kind == .abortable, "\(failure)")
        try await producer.abortTransaction()
        // Rewind to the last committed position (none yet: the beginning) and redo the batch.
        let committed = try await consumer.committedOffsets(for: [input])[input] ?? .invalid
        try await consumer.seek([input: committed.value >= 0 ? committed : .beginning])
        let batch = try await processBatch()
        #expect(batch.map(\.offset) == [0, 1, 2, 3, 4])
        // The committed transaction's records are readable (the mock also shows aborted ones).
        let output = try await Self.readAll(cluster, topic: "output", count: 5)
        #expect(Set(output.compactMap(\.key)) == Set((0..<5).map { Data("k\($0)".utf8) }))
        await consumer.close()
        try await producer.close()
    }

    @Test("Injected fencing is reported as fatal")
    func fencingIsFatal() async throws {
        let cluster = try KafkaTestSupport.cluster(topics: ["fenced": 1])
        let producer = try KafkaTestSupport.producer(cluster, transactionalID: "worker-txn-3")
        try await producer.initTransactions()
        try producer.beginTransaction()
        cluster.injectErrors(.addPartitionsToTxn, [.producerFenced])
        try await producer.enqueue(ProducerRecord(topic: "fenced", key: "x", value: Data("y".utf8)))
        await #expect {
            try await producer.commitTransactionRetrying()
        } throws: { error in
            (error as? KafkaError)?.kind == .fatal
        }
        try? await producer.close(timeoutMs: 1_000) // fenced: nothing more is delivered
    }
}
