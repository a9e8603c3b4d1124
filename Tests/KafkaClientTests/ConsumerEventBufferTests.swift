import Foundation
import Testing
@testable import KafkaClient

/// The hand-over between the polling thread and the reader, alone (no broker).
@Suite("Consumer event buffer")
struct ConsumerEventBufferTests {
    static func message(_ offset: Int64) -> KafkaConsumerEvent {
        .message(KafkaMessage(topic: "t", partition: 0, offset: offset, key: nil, value: Data(), headers: [], timestampMs: nil))
    }

    static func offsets(_ events: [KafkaConsumerEvent]) -> [Int64] {
        events.compactMap { if case .message(let message) = $0 { message.offset } else { nil } }
    }

    @Test("A batch is what is buffered, at most maxCount, in order; after finish the rest drains, then nil")
    func batchesInOrder() async {
        let buffer = ConsumerEventBuffer(capacity: 100)
        for offset in 0..<10 { buffer.push(Self.message(Int64(offset))) }
        #expect(Self.offsets(await buffer.nextBatch(maxCount: 4) ?? []) == [0, 1, 2, 3])
        #expect(buffer.count == 6)
        #expect(Self.offsets(await buffer.nextBatch(maxCount: 4) ?? []) == [4, 5, 6, 7])
        buffer.finish()
        #expect(!buffer.push(Self.message(99)), "nothing is added once finished")
        #expect(Self.offsets(await buffer.nextBatch(maxCount: 4) ?? []) == [8, 9])
        #expect(await buffer.nextBatch(maxCount: 4) == nil)
    }

    @Test("An empty buffer's batch waits for the first event and holds just it; a limit below one is one")
    func waitsForFirst() async {
        let buffer = ConsumerEventBuffer(capacity: 100)
        async let batch = buffer.nextBatch(maxCount: 0)
        // The reader is parked (or about to be): the push resumes it with this event either way.
        buffer.push(Self.message(7))
        #expect(Self.offsets(await batch ?? []) == [7])
        buffer.push(Self.message(8))
        buffer.push(Self.message(9))
        #expect(Self.offsets(await buffer.nextBatch(maxCount: 0) ?? []) == [8], "at least one, never more than the limit")
    }
}
