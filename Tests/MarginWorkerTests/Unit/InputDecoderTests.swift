import EngineTestSupport
import Foundation
import KafkaClient
import MarginCore
import MarginEngineCore
import MarginSchema
import Testing
@testable import MarginWorker

/// Consumer records → domain inputs: formats, tombstones, foreign topics, and the reason of each
/// record refused.
@Suite("Input decoder")
struct InputDecoderTests {
    static let topics = TopicNames()

    static func message(_ topic: String, key: String?, value: Data?, contentType: String? = nil) -> KafkaMessage {
        KafkaMessage(topic: topic, partition: 0, offset: 7, key: key.map { Data($0.utf8) }, value: value,
                     headers: contentType.map { [KafkaHeader(name: "content-type", string: $0)] } ?? [], timestampMs: 0)
    }

    @Test("Decoder: protobuf and JSON records become model values; tombstones, foreign topics; each bad record names its reason")
    func inputDecoder() throws {
        let decoder = InputDecoder(topics: Self.topics, bounds: .standard)
        let account = Account(id: "acct-1", version: 3, balances: ["USDC": 10])
        guard case .account("acct-1", let decoded?) = try decoder.decode(Self.message(Self.topics.accounts, key: "acct-1",
                                                                                      value: try SchemaCoding.encode(account.proto, format: .protobuf))) else {
            Issue.record("an account")
            return
        }
        #expect(decoded.version == 3)
        let json = try SchemaCoding.encode(TestWorld.btc(index: 60_000, at: 1).proto, format: .json)
        guard case .reference(.market(key: "BTC", let market?)) = try decoder.decode(Self.message(Self.topics.market, key: "BTC", value: json,
                                                                                              contentType: "application/json")) else {
            Issue.record("a market")
            return
        }
        #expect(market.indexPrice == 60_000)
        guard case .account("gone", nil) = try decoder.decode(Self.message(Self.topics.accounts, key: "gone", value: nil)) else {
            Issue.record("a tombstone")
            return
        }
        guard case .unrelated = try decoder.decode(Self.message("other.topic", key: nil, value: nil)) else {
            Issue.record("unrelated")
            return
        }
        func reason(_ message: KafkaMessage) -> String {
            do {
                _ = try decoder.decode(message)
                return "accepted"
            } catch {
                return error.description
            }
        }
        #expect(reason(Self.message(Self.topics.accounts, key: nil, value: Data())).contains("key"))
        #expect(reason(Self.message(Self.topics.accounts, key: "other", value: try SchemaCoding.encode(account.proto, format: .protobuf)))
            .contains("does not match key"))
        #expect(reason(Self.message(Self.topics.market, key: "BTC", value: Data("{".utf8), contentType: "application/json")) != "accepted")
        var extreme = TestWorld.btc(index: 60_000, at: 1)
        extreme.indexPrice = 1e300
        #expect(reason(Self.message(Self.topics.market, key: "BTC", value: try SchemaCoding.encode(extreme.proto, format: .protobuf))) != "accepted")
    }
}
