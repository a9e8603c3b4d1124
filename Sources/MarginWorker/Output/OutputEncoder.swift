import Foundation
import KafkaClient
import MarginCore
import MarginEngineCore
import MarginSchema
import SwiftProtobuf

/// Turns the engine's outputs into Kafka records: results, liquidation instructions and cancels
/// with their state records, dead letters. Pure (no I/O, no clock): every record carries a
/// deterministic `message-id` header and its key, so a replay produces the same ids.
struct OutputEncoder: Sendable {
    let topics: TopicNames
    let format: SchemaCoding.Format
    /// The `content-type` header of every protobuf or JSON record, built once (its bytes shared).
    private let contentType: KafkaHeader

    init(topics: TopicNames, format: SchemaCoding.Format) {
        self.topics = topics
        self.format = format
        self.contentType = KafkaHeader(name: "content-type", string: format.contentType)
    }

    /// Appends the records of one output, in order: all of them, or none when one cannot be
    /// encoded, and then it throws (the caller reports it; nothing empty is ever published). A
    /// batch's records go into one array per chunk, not one per output.
    func append(_ output: EngineOutput, to records: inout [ProducerRecord]) throws(MarginError) {
        switch output {
        case .result(let accountID, let result): records.append(try record(of: result, accountID: accountID))
        case .liquidation(let action): records += try self.records(of: action)
        case .deadLetter(let letter): records.append(deadLetter(letter))
        }
    }

    /// A margin result on the results topic (key: the account id).
    func record(of result: ResultOutput, accountID: String) throws(MarginError) -> ProducerRecord {
        record(topic: topics.results, key: accountID, value: try result.encoded(format: format), id: result.id)
    }

    /// The instruction or cancel of a liquidation action, then its liquidation-state record
    /// (in the account's partition of the state topic).
    func records(of action: LiquidationAction) throws(MarginError) -> [ProducerRecord] {
        let message: Margin_V1_LiquidationInstruction
        let id: String
        switch action {
        case .instruct(let plan, let state, let parameterSetVersion, let supersedes, let deadline):
            id = state.id
            message = plan.instruction(id: state.id, accountID: state.accountID, accountVersion: state.accountVersion, round: state.round,
                                       parameterSetVersion: parameterSetVersion, deadlineMs: deadline, supersedes: supersedes)
        case .cancel(let state, let parameterSetVersion):
            id = "\(state.id)-cancel"
            message = .cancel(id: state.id, accountID: state.accountID, accountVersion: state.accountVersion, round: state.round,
                              parameterSetVersion: parameterSetVersion)
        }
        return [try record(topic: topics.liquidations, key: action.state.accountID, message: message, id: id),
                try stateRecord(action.state)]
    }

    /// The liquidation-state record of an instruction (JSON).
    func stateRecord(_ state: OutstandingInstruction) throws(MarginError) -> ProducerRecord {
        let value: Data
        do { value = try JSONEncoder().encode(state) } catch { throw .numerical("cannot encode the liquidation state of \(state.accountID): \(error)") }
        return ProducerRecord(topic: topics.liquidationState, partition: state.partition, key: Data(state.accountID.utf8), value: value,
                              headers: [KafkaHeader(name: "content-type", string: "application/json")])
    }

    /// A dead letter: the source record's bytes with headers naming the reason and the source.
    func deadLetter(_ letter: DeadLetter) -> ProducerRecord {
        let source = letter.source
        var headers = [
            KafkaHeader(name: "dlq-reason", string: letter.reason), KafkaHeader(name: "dlq-error", string: letter.error),
            KafkaHeader(name: "dlq-source-topic", string: source.partition.topic),
            KafkaHeader(name: "dlq-source-partition", string: String(source.partition.partition)),
            KafkaHeader(name: "dlq-source-offset", string: String(source.offset)), KafkaHeader(name: "message-id", string: letter.id),
        ]
        if let contentType = source.contentType { headers.append(KafkaHeader(name: "content-type", string: contentType)) }
        return ProducerRecord(topic: topics.deadLetter, key: source.key.map { Data($0) }, value: source.value.map { Data($0) }, headers: headers)
    }

    private func record(topic: String, key: String, message: some SwiftProtobuf.Message, id: String) throws(MarginError) -> ProducerRecord {
        record(topic: topic, key: key, value: try SchemaCoding.encode(message, format: format), id: id)
    }

    private func record(topic: String, key: String, value: Data, id: String) -> ProducerRecord {
        ProducerRecord(topic: topic, key: Data(key.utf8), value: value, headers: [contentType, KafkaHeader(name: "message-id", string: id)])
    }
}
