import Foundation
import KafkaClient
import MarginCore
import MarginSchema
import SwiftProtobuf

/// Turns the engine's outputs into Kafka records: results, liquidation instructions and cancels
/// with their state records, dead letters. Pure (no I/O, no clock): every record carries a
/// deterministic `message-id` header and its key, so a replay produces the same ids.
struct OutputEncoder: Sendable {
    let topics: TopicNames
    let format: SchemaCoding.Format

    /// A margin result on the results topic (key: the account id).
    func result(_ message: Margin_V1_MarginResult, accountID: String) -> ProducerRecord {
        record(topic: topics.results, key: accountID, message: message, id: message.resultID)
    }

    /// An explained margin result under id `id` on the results topic.
    func result(_ result: MarginResult, id: String, accountID: String) -> ProducerRecord {
        self.result(result.proto(resultID: id), accountID: accountID)
    }

    /// The instruction or cancel of a liquidation action, then its liquidation-state record
    /// (in the account's partition of the state topic).
    func records(of action: LiquidationAction) -> [ProducerRecord] {
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
        return [record(topic: topics.liquidations, key: action.state.accountID, message: message, id: id),
                stateRecord(action.state)]
    }

    /// The liquidation-state record of an instruction (JSON; encoding plain stored values cannot fail).
    func stateRecord(_ state: OutstandingInstruction) -> ProducerRecord {
        let value: Data
        do { value = try JSONEncoder().encode(state) } catch { preconditionFailure("OutstandingInstruction always encodes: \(error)") }
        return ProducerRecord(topic: topics.liquidationState, partition: state.partition, key: Data(state.accountID.utf8), value: value,
                              headers: [KafkaHeader(name: "content-type", string: "application/json")])
    }

    /// The dead letter of `message`: its bytes with headers naming the reason and the source; its
    /// id names the source record (topic, partition, offset).
    func deadLetter(_ message: KafkaMessage, reason: String, error: String) -> ProducerRecord {
        let id = DeterministicID.make("dlq", [message.topic, String(message.partition), String(message.offset)])
        var headers = [
            KafkaHeader(name: "dlq-reason", string: reason), KafkaHeader(name: "dlq-error", string: error),
            KafkaHeader(name: "dlq-source-topic", string: message.topic),
            KafkaHeader(name: "dlq-source-partition", string: String(message.partition)),
            KafkaHeader(name: "dlq-source-offset", string: String(message.offset)), KafkaHeader(name: "message-id", string: id),
        ]
        if let contentType = message.header("content-type") { headers.append(KafkaHeader(name: "content-type", string: contentType)) }
        return ProducerRecord(topic: topics.deadLetter, key: message.key, value: message.value, headers: headers)
    }

    private func record(topic: String, key: String, message: some SwiftProtobuf.Message, id: String) -> ProducerRecord {
        ProducerRecord(topic: topic, key: Data(key.utf8), value: SchemaCoding.encode(message, format: format),
                       headers: [KafkaHeader(name: "content-type", string: format.contentType), KafkaHeader(name: "message-id", string: id)])
    }
}
