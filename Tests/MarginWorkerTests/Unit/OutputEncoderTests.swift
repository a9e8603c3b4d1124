import EngineTestSupport
import Foundation
import KafkaClient
import MarginCore
@testable import MarginEngineCore
import MarginSchema
import Testing
@testable import MarginWorker

/// Engine outputs → Kafka records: ids in headers, keys and partitions, dead letters naming their source.
@Suite("Output encoder")
struct OutputEncoderTests {
    static let topics = TopicNames()

    @Test("Ids in headers, the state record in the account's partition, cancels under <id>-cancel, dead letters name their source")
    func outputEncoder() throws {
        let encoder = OutputEncoder(topics: Self.topics, format: .protobuf)
        var state = OutstandingInstruction(id: "liq-x", accountID: "a", accountVersion: 2, round: 1, deadlineMs: 9, partition: 5)
        state.cancelled = true
        let records = try encoder.records(of: .cancel(state: state, parameterSetVersion: 4))
        #expect(records.map(\.topic) == [Self.topics.liquidations, Self.topics.liquidationState])
        #expect(records[0].headers.first { $0.name == "message-id" }?.value == Data("liq-x-cancel".utf8))
        let instruction = try SchemaCoding.decode(Margin_V1_LiquidationInstruction.self, from: try #require(records[0].value), format: .protobuf)
        #expect(instruction.cancel && instruction.id == "liq-x" && instruction.planRound == 1 && instruction.parameterSetVersion == 4)
        #expect(records[1].partition == 5 && records[1].key == Data("a".utf8))
        let restored = InputDecoder.liquidationStates([KafkaMessage(topic: Self.topics.liquidationState, partition: 5, offset: 0, key: records[1].key,
                                                                    value: records[1].value, headers: [], timestampMs: 0)])
        #expect(restored.problems.isEmpty && restored.states.first?.state == state, "the state record reads back")
        #expect(restored.answeredBefore == nil)
        // The consumed-position records among the states: the latest counts, states are untouched.
        let positions = [ConsumedPosition.record(topic: Self.topics.liquidationState, partition: 5, nextOffset: 12),
                         ConsumedPosition.record(topic: Self.topics.liquidationState, partition: 5, nextOffset: 40)]
        let messages = positions.enumerated().map { index, record in
            KafkaMessage(topic: record.topic, partition: 5, offset: Int64(index), key: record.key, value: record.value, headers: record.headers)
        } + [KafkaMessage(topic: Self.topics.liquidationState, partition: 5, offset: 2, key: records[1].key, value: records[1].value)]
        let mixed = InputDecoder.liquidationStates(messages)
        #expect(mixed.answeredBefore == 40 && mixed.states.count == 1 && mixed.problems.isEmpty)
        var broken = messages[0]
        broken.value = Data(#"{"next_offset":-1}"#.utf8)
        #expect(InputDecoder.liquidationStates([broken]).problems.count == 1, "an unreadable position is reported, not taken")

        let source = RecordSource(partition: InputPartition(topic: Self.topics.accounts, partition: 0), offset: 7, key: Array("k".utf8),
                                  value: Array("x".utf8), contentType: "application/json")
        let letter = encoder.deadLetter(DeadLetter(source: source, error: .invalidInput(field: "account", reason: "bad")))
        let headers = Dictionary(letter.headers.map { ($0.name, String(decoding: $0.value ?? Data(), as: UTF8.self)) }, uniquingKeysWith: { a, _ in a })
        #expect(letter.topic == Self.topics.deadLetter && letter.value == Data("x".utf8) && letter.key == Data("k".utf8))
        #expect(headers["dlq-reason"] == "invalid_input" && headers["dlq-error"]?.contains("bad") == true)
        #expect(headers["dlq-source-topic"] == Self.topics.accounts && headers["dlq-source-offset"] == "7" && headers["content-type"] == "application/json")
        #expect(headers["message-id"] == DeterministicID.make("dlq", [Self.topics.accounts, "0", "7"]))
    }

    @Test("A result is encoded under its id; the JSON format carries its content type")
    func resultRecord() throws {
        let encoder = OutputEncoder(topics: Self.topics, format: .json)
        let account = Account(id: "a", version: 3, balances: ["USDC": 1])
        let set = ParameterSetIdentity(id: "deribit-like", version: 1, valuationAsset: "USDC")
        let record = try encoder.record(of: .error(id: "res-1", account: account, parameterSet: set, error: .numerical("x is not finite")),
                                        accountID: "a")
        #expect(record.topic == Self.topics.results && record.key == Data("a".utf8))
        let headers = Dictionary(record.headers.map { ($0.name, String(decoding: $0.value ?? Data(), as: UTF8.self)) }, uniquingKeysWith: { a, _ in a })
        #expect(headers["message-id"] == "res-1" && headers["content-type"] == "application/json")
        let result = try SchemaCoding.decode(Margin_V1_MarginResult.self, from: try #require(record.value), format: .json)
        #expect(result.resultID == "res-1" && result.health == .error && result.accountVersion == 3)
    }

    @Test("A batch's records are its outputs' records in order, encoded in chunks on every core, then the answered positions")
    func batchRecords() throws {
        var configuration = WorkerConfiguration()
        configuration.instanceID = "chunks"
        let publisher = OutputPublisher(configuration: configuration, logger: EngineFixture.logger) { _ in }
        let encoder = OutputEncoder(topics: configuration.topics, format: configuration.format)
        var batch = OutputBatch()
        for index in 0..<1_000 {
            let account = Account(id: "a\(index)", version: UInt64(index))
            switch index % 100 {
            case 7:
                var state = OutstandingInstruction(id: "liq-\(index)", accountID: account.id, accountVersion: 1, round: 1, deadlineMs: 9, partition: 2)
                state.cancelled = true
                batch.outputs.append(.liquidation(.cancel(state: state, parameterSetVersion: 1)))
            case 8:
                let source = RecordSource(partition: InputPartition(topic: configuration.topics.accounts, partition: 1), offset: Int64(index),
                                          key: Array(account.id.utf8), value: [1, 2], contentType: nil)
                batch.outputs.append(.deadLetter(DeadLetter(source: source, error: .invalidInput(field: "account", reason: "bad"))))
            default:
                batch.outputs.append(.result(accountID: account.id, .summary(
                    id: "res-\(index)", account: account, figures: MarginSummary(grossEquity: Double(index), equity: 1, initialEquity: 1,
                                                                                maintenanceRequirement: 2, initialRequirement: 3, health: .healthy),
                    parameterSet: ParameterSetIdentity(id: "p", version: 1, valuationAsset: "USDC"), asOfMs: 5, marketTimestamps: ["BTC": 4])))
            }
        }
        batch.answeredPositions = [3: 10, 1: 5]
        var expected: [ProducerRecord] = []
        for output in batch.outputs { try encoder.append(output, to: &expected) }
        expected += [1, 3].map { ConsumedPosition.record(topic: configuration.topics.liquidationState, partition: $0, nextOffset: batch.answeredPositions[$0]!) }
        let records = publisher.records(of: batch)
        #expect(records.count == expected.count)
        // The same record; a JSON value (the liquidation states) as the same object, whose keys
        // JSONEncoder writes in no fixed order.
        func same(_ a: ProducerRecord, _ b: ProducerRecord) throws -> Bool {
            guard a.topic == configuration.topics.liquidationState, let x = a.value, let y = b.value else { return a == b }
            var (a, b) = (a, b)
            (a.value, b.value) = (nil, nil)
            return try a == b && (JSONSerialization.jsonObject(with: x) as? NSDictionary) == (JSONSerialization.jsonObject(with: y) as? NSDictionary)
        }
        let differing = try zip(records, expected).enumerated().first { try !same($0.element.0, $0.element.1) }
        #expect(differing == nil, "record \(differing?.offset ?? -1) differs")
    }

    @Test("A summary result reads back as its message in both formats (protobuf is written without building it)")
    func summaryRecord() throws {
        let summary = ResultOutput.summary(
            id: "res-2", account: Account(id: "acct-7", version: 12), figures: MarginSummary(
                grossEquity: 10_500.25, equity: 10_400, initialEquity: 10_300, maintenanceRequirement: 1_250.5, initialRequirement: 2_001,
                health: .healthy),
            parameterSet: ParameterSetIdentity(id: "calibrated", version: 4, valuationAsset: "USDC"), asOfMs: 1_700_000_000_123,
            marketTimestamps: ["BTC": 1_700_000_000_100, "USDC": 1_699_999_999_000])
        for format in [SchemaCoding.Format.protobuf, .json] {
            let record = try OutputEncoder(topics: Self.topics, format: format).record(of: summary, accountID: "acct-7")
            let decoded = try SchemaCoding.decode(Margin_V1_MarginResult.self, from: try #require(record.value), format: format)
            #expect(decoded == summary.proto, "\(format)")
            #expect(decoded.summaryOnly && decoded.marketTimestamps.count == 2)
            #expect(record.headers.map(\.name) == ["content-type", "message-id"] && record.key == Data("acct-7".utf8))
        }
    }
}
