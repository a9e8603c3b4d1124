import CRdKafka
import Foundation
import Testing
@testable import KafkaClient
import TestSupport

@Suite("Produce and consume against the embedded broker", .serialized)
struct ProduceConsumeTests {
    @Test("murmur2 matches Kafka's Java test vectors and librdkafka's partitioner")
    func murmur2() {
        let vectors: [(String, Int32)] = [
            ("21", -973_932_308), ("foobar", -790_332_482), ("a-little-bit-long-string", -985_981_536),
            ("a-little-bit-longer-string", -1_486_304_829), ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
            ("abc", 479_470_107),
        ]
        for (key, expected) in vectors {
            #expect(KafkaPartitioner.murmur2(Array(key.utf8)) == expected, "\(key)")
        }
        for index in 0..<500 {
            let key = Array("account-\(index)".utf8)
            for partitions: Int32 in [1, 3, 6, 12, 64] {
                let theirs = key.withUnsafeBytes { rd_kafka_msg_partitioner_murmur2(nil, $0.baseAddress, $0.count, partitions, nil, nil) }
                #expect(KafkaPartitioner.partition(forKey: key, partitionCount: partitions) == theirs)
            }
        }
    }

    @Test("Round trip with keys, headers and tombstones; keyed records land on their murmur2 partition")
    func roundTrip() async throws {
        let cluster = try KafkaTestSupport.cluster(topics: ["roundtrip": 4])
        let producer = try KafkaTestSupport.producer(cluster)
        var sent: [ProducerRecord] = []
        for index in 0..<40 {
            let value: Data? = index % 10 == 9 ? nil : Data("value-\(index)".utf8)
            let record = ProducerRecord(topic: "roundtrip", key: "key-\(index)", value: value,
                                        headers: [KafkaHeader(name: "content-type", string: "application/json"), KafkaHeader(name: "empty", value: nil)])
            let report = try await producer.send(record)
            #expect(report.partition == KafkaPartitioner.partition(forKey: Array("key-\(index)".utf8), partitionCount: 4))
            sent.append(record)
        }
        let explicit = try await producer.send(ProducerRecord(topic: "roundtrip", partition: 2, key: "explicit", value: Data("x".utf8)))
        #expect(explicit.partition == 2)
        try await producer.close()

        let consumer = try KafkaConsumer(configuration: KafkaTestSupport.consumerConfiguration(cluster, group: nil, client: "reader"), logger: KafkaTestSupport.logger)
        #expect(try await consumer.partitions(of: "roundtrip") == [0, 1, 2, 3])
        try consumer.assign(Dictionary(uniqueKeysWithValues: (0..<4).map { (TopicPartition(topic: "roundtrip", partition: Int32($0)), KafkaOffset.beginning) }))
        let received = try await withDeadline(seconds: 20, "41 records") {
            var messages: [KafkaMessage] = []
            for await event in consumer.events {
                if case .message(let message) = event { messages.append(message) }
                if messages.count == 41 { break }
            }
            return messages
        }
        await consumer.close()
        for record in sent {
            let key = record.key!
            let message = try #require(received.first { $0.key == key })
            #expect(message.value == record.value)
            #expect(message.header("content-type") == "application/json")
            #expect(message.headers.contains { $0.name == "empty" && $0.value == nil })
            #expect(message.partition == KafkaPartitioner.partition(forKey: Array(key), partitionCount: 4))
            #expect(message.timestampMs != nil)
        }
        #expect(received.filter { $0.value == nil }.count == 4) // tombstones
        let high = try await KafkaConsumer(configuration: KafkaTestSupport.consumerConfiguration(cluster, group: nil, client: "wm"), logger: KafkaTestSupport.logger)
            .watermarks(for: TopicPartition(topic: "roundtrip", partition: 2)).high
        #expect(high == Int64(received.filter { $0.partition == 2 }.count))
    }

    @Test("Invalid settings fail at creation with librdkafka's text")
    func invalidConfiguration() throws {
        let configuration = KafkaProducerConfiguration(common: KafkaConfiguration(bootstrapServers: "localhost:1", properties: ["no.such.property": "1"]))
        #expect {
            _ = try KafkaProducer(configuration: configuration, logger: KafkaTestSupport.logger)
        } throws: { error in
            (error as? KafkaError)?.message.contains("no.such.property") == true
        }
        let bad = KafkaProducerConfiguration(common: KafkaConfiguration(bootstrapServers: "localhost:1", properties: ["linger.ms": "-5"]))
        #expect(throws: KafkaError.self) { _ = try KafkaProducer(configuration: bad, logger: KafkaTestSupport.logger) }
    }

    @Test("Batches of a back-pressured consumer: every record once, in order, at most maxCount each, the buffer within its capacity")
    func batches() async throws {
        let (cluster, consumer) = try await KafkaTestSupport.filledTopic("batches", records: 300, readerCapacity: 16)
        let offsets = try await withDeadline(seconds: 20, "300 records in batches") {
            var offsets: [Int64] = []
            for await batch in consumer.events.batches(maxCount: 7) {
                #expect((1...7).contains(batch.count))
                #expect(consumer.bufferedEventCount <= 16)
                for case .message(let message) in batch { offsets.append(message.offset) }
                if offsets.count >= 300 { break }
            }
            return offsets
        }
        await consumer.close()
        withExtendedLifetime(cluster) {}
        #expect(offsets == (0..<300).map(Int64.init))
    }

    @Test("Slow processing back-pressures the polling thread instead of buffering everything")
    func backPressure() async throws {
        let (cluster, consumer) = try await KafkaTestSupport.filledTopic("pressure", records: 100, readerCapacity: 16)
        var iterator = consumer.events.makeAsyncIterator()
        var count = 0
        while count < 100 {
            guard case .message = await iterator.next() else { continue }
            count += 1
            // The buffer never holds more than its capacity (plus rebalance/error events).
            #expect(consumer.bufferedEventCount <= 16)
        }
        await consumer.close()
        withExtendedLifetime(cluster) {}
        #expect(count == 100)
    }
}
