import Foundation
import Testing
import KafkaClient
import TestSupport

@Suite("Consumer groups on the embedded broker", .serialized)
struct ConsumerGroupTests {
    /// Commits, retrying while the group is still settling: a commit sent during a rebalance's
    /// second (incremental) round is refused with ILLEGAL_GENERATION (22) or REBALANCE_IN_PROGRESS
    /// (27), as Kafka specifies; on a loaded machine the split the test waits for can be observed
    /// before the last round completes. librdkafka before 2.10 (confluentinc/librdkafka#4059, fixed
    /// by #4908) also takes an ILLEGAL_GENERATION on a commit as a lost assignment and rejoins the
    /// group: a retry on a timer lands in that rebalance, is refused again and starts another, which
    /// kept the group rebalancing for 30 s in loaded runs. So after a 22 the commit is retried once
    /// this consumer (`index` in `recorder`) has been assigned partitions again. Bounded: 60 s.
    static func commitAcrossRebalance(_ consumer: KafkaConsumer, index: Int, recorder: EventRecorder,
                                      _ offsets: [TopicPartition: KafkaOffset]) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        var attempt = 0
        while true {
            attempt += 1
            let mark = await recorder.elements.count
            let refused: KafkaError
            do {
                try await consumer.commit(offsets)
                return
            } catch {
                refused = error
            }
            guard refused.code == 22 || refused.code == 27, ContinuousClock.now < deadline else { throw refused }
            if refused.code == 22 {
                try await withDeadline(seconds: 30, "consumer \(index) assigned again after a refused commit") {
                    await recorder.wait { entries in
                        entries[mark...].contains { entry in
                            guard entry.consumer == index, case .partitionsAssigned = entry.event else { return false }
                            return true
                        }
                    }
                }
            } else {
                try await Task.sleep(for: .milliseconds(min(1_000, 200 * attempt)))
            }
        }
    }

    @Test("Three consumers share six partitions; one leaves; exactly its partitions move; nothing is lost")
    func rebalanceMovesExactlyTheLeaversPartitions() async throws {
        let topic = "accounts"
        let cluster = try KafkaTestSupport.cluster(brokers: 3, topics: [topic: 6])
        let producer = try KafkaTestSupport.producer(cluster)
        func produceRound(_ round: Int) async throws {
            for partition in 0..<6 {
                for index in 0..<10 {
                    try await producer.enqueue(ProducerRecord(topic: topic, partition: Int32(partition), key: "r\(round)-p\(partition)-\(index)", value: Data("v".utf8)))
                }
            }
            try await producer.flush()
        }
        try await produceRound(1)

        let recorder = EventRecorder()
        var consumers: [KafkaConsumer] = []
        var tasks: [Task<Void, Never>] = []
        for index in 0..<3 {
            let consumer = try KafkaConsumer(configuration: KafkaTestSupport.consumerConfiguration(cluster, group: "margin-workers", client: "worker-\(index)"),
                                             logger: KafkaTestSupport.logger)
            try consumer.subscribe(topics: [topic])
            consumers.append(consumer)
            tasks.append(recorder.record(consumer, as: index))
        }
        let all = Set((0..<6).map { TopicPartition(topic: topic, partition: Int32($0)) })
        @Sendable func splitThreeWays(_ entries: [RecordedEvent]) -> Bool {
            let owned = (0..<3).map { entries.assignment(of: $0) }
            let disjoint = owned[0].isDisjoint(with: owned[1]) && owned[0].isDisjoint(with: owned[2]) && owned[1].isDisjoint(with: owned[2])
            return disjoint && owned.allSatisfy { $0.count == 2 } && owned.reduce(Set()) { $0.union($1) } == all
        }
        try await withDeadline(seconds: 60, "a stable three-way split and the first 60 records") {
            await recorder.wait { entries in splitThreeWays(entries) && Set(entries.messages().map(\.key)).count == 60 }
        }
        // Commit what each consumer has processed.
        for (index, consumer) in consumers.enumerated() {
            let messages = await recorder.elements.messages(of: index)
            var next: [TopicPartition: KafkaOffset] = [:]
            for message in messages { next[message.topicPartition] = KafkaOffset(max(next[message.topicPartition]?.value ?? 0, message.offset + 1)) }
            try await Self.commitAcrossRebalance(consumer, index: index, recorder: recorder, next)
        }
        // A refused commit made its consumer rejoin: the split again before the leaver leaves.
        try await withDeadline(seconds: 60, "the three-way split after the commits") { await recorder.wait(until: splitThreeWays) }
        let leaverPartitions = await recorder.elements.assignment(of: 2)
        let before0 = await recorder.elements.assignment(of: 0), before1 = await recorder.elements.assignment(of: 1)
        let mark = await recorder.elements.count

        await consumers[2].close()
        await tasks[2].value
        try await withDeadline(seconds: 60, "the leaver's partitions to move") {
            await recorder.wait { entries in
                entries.assignment(of: 0).union(entries.assignment(of: 1)) == all
            }
        }
        let after = await recorder.elements
        let moved = Array(after[mark...])
        // The leaver reported exactly its partitions as revoked.
        let leaverRevoked = moved.filter { $0.consumer == 2 }.compactMap { entry -> [TopicPartition]? in
            if case .partitionsRevoked(let partitions) = entry.event { return partitions }
            return nil
        }.flatMap { $0 }
        #expect(Set(leaverRevoked) == leaverPartitions)
        // The others were only given the leaver's partitions (incremental: nothing of theirs revoked).
        for index in 0..<2 {
            for entry in moved where entry.consumer == index {
                switch entry.event {
                case .partitionsAssigned(let partitions): #expect(Set(partitions).isSubset(of: leaverPartitions))
                case .partitionsRevoked(let partitions): Issue.record("consumer \(index) lost \(partitions)")
                default: break
                }
            }
        }
        #expect(after.assignment(of: 0).isSuperset(of: before0) && after.assignment(of: 1).isSuperset(of: before1))

        // New records on every partition reach the remaining consumers: nothing lost across the move.
        try await produceRound(2)
        try await withDeadline(seconds: 60, "all 120 records") {
            await recorder.wait { Set($0.messages().map(\.key)).count == 120 }
        }
        try await producer.close()
        for index in 0..<2 { await consumers[index].close() }
        for task in tasks { await task.value }
    }

    @Test("Manual assignment at explicit offsets, committed offsets, pause and resume, seek")
    func manualAssignmentAndOffsets() async throws {
        let topic = "market"
        let cluster = try KafkaTestSupport.cluster(topics: [topic: 2])
        let producer = try KafkaTestSupport.producer(cluster)
        for index in 0..<20 { try await producer.enqueue(ProducerRecord(topic: topic, partition: Int32(index % 2), key: "k\(index)", value: Data([UInt8(index)]))) }
        try await producer.flush()
        try await producer.close()

        let consumer = try KafkaConsumer(configuration: KafkaTestSupport.consumerConfiguration(cluster, group: "offsets", client: "manual"), logger: KafkaTestSupport.logger)
        let p0 = TopicPartition(topic: topic, partition: 0), p1 = TopicPartition(topic: topic, partition: 1)
        try consumer.assign([p0: KafkaOffset(5), p1: .beginning])
        #expect(try consumer.assignment() == [p0, p1])
        var seen: [KafkaMessage] = []
        try await withDeadline(seconds: 20, "15 records") {
            var local = consumer.events.makeAsyncIterator()
            var collected: [KafkaMessage] = []
            while collected.count < 15, let event = await local.next() {
                if case .message(let message) = event { collected.append(message) }
            }
            return collected
        }.forEach { seen.append($0) }
        #expect(seen.filter { $0.partition == 0 }.map(\.offset).min() == 5)
        #expect(seen.filter { $0.partition == 1 }.count == 10)
        try consumer.storeOffset(after: try #require(seen.last { $0.partition == 1 }))
        try await consumer.commit()
        let committed = try await consumer.committedOffsets(for: [p1])
        #expect(committed[p1] == KafkaOffset(10))
        try consumer.pause([p0])
        try consumer.resume([p0])
        try await consumer.seek([p1: KafkaOffset(8)])
        let replayed = try await withDeadline(seconds: 20, "replay after seek") {
            var local = consumer.events.makeAsyncIterator()
            while let event = await local.next() {
                if case .message(let message) = event, message.partition == 1 { return message.offset }
            }
            return -1
        }
        #expect(replayed == 8)
        await consumer.close()
    }
}
