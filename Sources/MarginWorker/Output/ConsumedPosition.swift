import Foundation
import KafkaClient

/// The consumed position of an accounts partition (``MarginEngineCore/OutputBatch/answeredPositions``:
/// none while the shard restores), recorded with each batch in the same partition of the
/// liquidation-state topic (compacted: the latest survives), inside the batch's transaction.
/// The next owner of the partition reads it with the partition's liquidation state: every record
/// before it has its result on the results topic, every record from it on is answered by the new
/// owner version by version (``MarginEngineCore/ShardAssignment/answeredBefore``).
///
/// Record: key ``key`` (one per partition), header `margin-record: consumed-position`, value JSON
/// `{"next_offset": N}`. The header, not the key, tells it from an account's liquidation state.
enum ConsumedPosition {
    static let key = Data("\u{0}consumed-position".utf8)
    static let header = KafkaHeader(name: "margin-record", string: "consumed-position")

    private struct Value: Codable {
        var nextOffset: Int64

        enum CodingKeys: String, CodingKey { case nextOffset = "next_offset" }
    }

    /// The record of `partition`'s position `nextOffset` in the liquidation-state `topic`.
    static func record(topic: String, partition: Int32, nextOffset: Int64) -> ProducerRecord {
        // Encoding one integer cannot fail.
        let value = Data(#"{"next_offset":\#(nextOffset)}"#.utf8)
        return ProducerRecord(topic: topic, partition: partition, key: key, value: value,
                              headers: [header, KafkaHeader(name: "content-type", string: "application/json")])
    }

    /// Whether a liquidation-state record is a consumed-position record.
    static func isPosition(_ message: KafkaMessage) -> Bool {
        message.headers.contains(header)
    }

    /// The position a consumed-position record carries; throws when it cannot be read.
    static func nextOffset(of message: KafkaMessage) throws -> Int64 {
        guard let value = message.value else { throw DecodingError.valueNotFound(Int64.self, .init(codingPath: [], debugDescription: "no value")) }
        let offset = try JSONDecoder().decode(Value.self, from: value).nextOffset
        guard offset >= 0 else { throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "negative next_offset \(offset)")) }
        return offset
    }
}
