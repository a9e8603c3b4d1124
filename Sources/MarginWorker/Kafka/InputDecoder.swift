import Foundation
import KafkaClient
import MarginCore
import MarginEngineCore
import MarginSchema

/// The Kafka edge of the engine's inputs: consumer events → ``AccountsEvent`` and
/// ``ReferenceEvent``, each record decoded by its content type's format (protobuf binary or JSON),
/// with a key that names it, the payload's own validation and the configured input bounds — or the
/// `MarginError` that dead-letters it. Pure: no clock, no state (the clock-skew and version rules
/// are the engine's).
public struct InputDecoder: Sendable {
    /// A decoded record of the topics the worker reads.
    enum Input {
        case reference(ReferenceInput)
        /// An account's state (nil: a tombstone), keyed by its id.
        case account(id: String, Account?)
        /// A topic this worker does not read.
        case unrelated
    }

    let topics: TopicNames
    let bounds: InputBounds

    public init(topics: TopicNames, bounds: InputBounds) {
        self.topics = topics
        self.bounds = bounds
    }

    /// The record's source (position and bytes) for the engine and its dead letter.
    static func source(of message: KafkaMessage) -> RecordSource {
        RecordSource(partition: InputPartition(topic: message.topic, partition: message.partition), offset: message.offset,
                     key: message.key.map { [UInt8]($0) }, value: message.value.map { [UInt8]($0) }, contentType: message.header("content-type"))
    }

    /// An accounts consumer event as the engine takes it; nil for assignments (the service reads
    /// their restore data first) and for records of other topics.
    public func accountsEvent(_ event: KafkaConsumerEvent) -> AccountsEvent? {
        switch event {
        case .message(let message):
            let key = message.key.map { String(decoding: $0, as: UTF8.self) } ?? ""
            do {
                switch try decode(message) {
                case .account(let id, let account): return .record(Self.source(of: message), id: id, account: .success(account))
                case .reference, .unrelated: return nil
                }
            } catch {
                return .record(Self.source(of: message), id: key, account: .failure(error))
            }
        case .partitionEnd(let partition, let next):
            return partition.topic == topics.accounts ? .partitionEnd(partition: partition.partition, next: next) : nil
        case .partitionsRevoked(let partitions):
            return .revoked(partitions.filter { $0.topic == topics.accounts }.map(\.partition))
        case .partitionsAssigned:
            return nil
        case .error(let error):
            return .error("\(error)")
        }
    }

    /// A reference consumer event as the engine takes it (nil for what it does not need).
    public func referenceEvent(_ event: KafkaConsumerEvent) -> ReferenceEvent? {
        switch event {
        case .message(let message):
            do {
                guard case .reference(let input) = try decode(message) else { return nil }
                return .record(Self.source(of: message), input: .success(input))
            } catch {
                return .record(Self.source(of: message), input: .failure(error))
            }
        case .partitionEnd(let partition, let next):
            return .partitionEnd(InputPartition(topic: partition.topic, partition: partition.partition), next: next)
        case .error(let error):
            return .error("\(error)")
        case .partitionsAssigned, .partitionsRevoked:
            return nil
        }
    }

    func decode(_ message: KafkaMessage) throws(MarginError) -> Input {
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

    /// What a liquidation-state partition holds, read oldest first.
    public struct LiquidationStatePartition: Sendable {
        /// (account id, state or nil for a tombstone), oldest first.
        public var states: [(accountID: String, state: OutstandingInstruction?)] = []
        /// What cannot be read (its state is kept as it was, never silently cleared).
        public var problems: [String] = []
        /// The latest consumed position recorded for the accounts partition (``ConsumedPosition``).
        public var answeredBefore: Int64?
    }

    /// The records of a liquidation-state partition: the accounts' states and the consumed
    /// position.
    public static func liquidationStates(_ messages: [KafkaMessage]) -> LiquidationStatePartition {
        var partition = LiquidationStatePartition()
        for message in messages {
            if ConsumedPosition.isPosition(message) {
                do {
                    partition.answeredBefore = try ConsumedPosition.nextOffset(of: message)
                } catch {
                    partition.problems.append("\(message.topicPartition)@\(message.offset) (consumed position): \(error)")
                }
                continue
            }
            guard let key = message.key.map({ String(decoding: $0, as: UTF8.self) }) else {
                partition.problems.append("\(message.topicPartition)@\(message.offset): no key")
                continue
            }
            guard let value = message.value else {
                partition.states.append((key, nil))
                continue
            }
            do {
                partition.states.append((key, try JSONDecoder().decode(OutstandingInstruction.self, from: value)))
            } catch {
                partition.problems.append("\(message.topicPartition)@\(message.offset) (account \(key)): \(error)")
            }
        }
        return partition
    }
}
