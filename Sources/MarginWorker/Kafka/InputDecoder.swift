import Foundation
import KafkaClient
import MarginCore
import MarginSchema

/// KafkaMessage → ``WorkerInput`` or the `MarginError` that dead-letters it: the content type's
/// format (protobuf binary or JSON), a key that names the record, the payload's own validation and
/// the configured input bounds. Pure: no clock, no state (the clock-skew and version rules are the
/// store's).
struct InputDecoder: Sendable {
    let topics: TopicNames
    let bounds: InputBounds

    func decode(_ message: KafkaMessage) throws(MarginError) -> WorkerInput {
        let topic = message.topic
        guard topic == topics.accounts || topics.reference.contains(topic) else { return .unrelated }
        guard let key = message.key.map({ String(decoding: $0, as: UTF8.self) }), !key.isEmpty else {
            let reason = topic == topics.accounts ? "account records need the account id as key" : "records of \(topic) need a key"
            throw .invalidInput(field: "key", reason: reason)
        }
        let format = SchemaCoding.Format(contentType: message.header("content-type"))
        switch topic {
        case topics.accounts:
            guard let value = message.value else { return .account(id: key, nil) }
            let account = try Account(proto: SchemaCoding.decode(Margin_V1_AccountState.self, from: value, format: format))
            guard account.id == key else { throw .invalidInput(field: "account_id", reason: "'\(account.id)' does not match key '\(key)'") }
            return .account(id: key, account)
        case topics.instruments:
            guard let value = message.value else { return .reference(.instrument(key: key, nil)) }
            let instrument = try Instrument(proto: SchemaCoding.decode(Margin_V1_Instrument.self, from: value, format: format))
            guard instrument.name == key else { throw .invalidInput(field: "instrument.name", reason: "'\(instrument.name)' does not match key '\(key)'") }
            try instrument.checkBounds(bounds)
            return .reference(.instrument(key: key, instrument))
        case topics.market:
            guard let value = message.value else { return .reference(.market(key: key, nil)) }
            let market = try UnderlyingMarket(proto: SchemaCoding.decode(Margin_V1_MarketSnapshot.self, from: value, format: format))
            guard market.underlying == key else { throw .invalidInput(field: "market.underlying", reason: "'\(market.underlying)' does not match key '\(key)'") }
            try market.checkBounds(bounds)
            return .reference(.market(key: key, market))
        case topics.params:
            guard let value = message.value else { return .reference(.parameters(key: key, nil)) }
            let parameters = try RiskParameters(proto: SchemaCoding.decode(Margin_V1_RiskParameters.self, from: value, format: format))
            guard parameters.id == key else { throw .invalidInput(field: "params.id", reason: "'\(parameters.id)' does not match key '\(key)'") }
            return .reference(.parameters(key: key, parameters))
        default:
            return .unrelated
        }
    }

    /// The records of a liquidation-state partition, oldest first, as (account id, state or nil
    /// for a tombstone); what cannot be read is returned as problems (its state is kept as it was,
    /// never silently cleared).
    static func liquidationStates(_ messages: [KafkaMessage]) -> (states: [(accountID: String, state: OutstandingInstruction?)], problems: [String]) {
        var states: [(accountID: String, state: OutstandingInstruction?)] = []
        var problems: [String] = []
        for message in messages {
            guard let key = message.key.map({ String(decoding: $0, as: UTF8.self) }) else {
                problems.append("\(message.topicPartition)@\(message.offset): no key")
                continue
            }
            guard let value = message.value else {
                states.append((key, nil))
                continue
            }
            do {
                states.append((key, try JSONDecoder().decode(OutstandingInstruction.self, from: value)))
            } catch {
                problems.append("\(message.topicPartition)@\(message.offset) (account \(key)): \(error)")
            }
        }
        return (states, problems)
    }
}
