import Foundation
import KafkaClient
import MarginCore
import MarginSchema
import Testing
@testable import MarginWorker

/// The engine's state types alone: the phase machine, the shards' version rule and exposure index,
/// the input decoder and the output encoder.
@Suite("Worker state: phase machine, account shards, input decoder, output encoder")
struct WorkerStateTests {
    static let topics = TopicNames()

    @Test("restoringReference → serving once every target is reached (or its partition ends) → draining; the timeout is reported once")
    func phaseMachine() {
        let instruments = TopicPartition(topic: Self.topics.instruments, partition: 0)
        let market = TopicPartition(topic: Self.topics.market, partition: 0)
        var phase = WorkerPhase()
        #expect(phase.state == .restoringReference && !phase.referenceRestored)
        #expect(phase.setReferenceTargets([instruments: 2, market: 4], now: 0) == .none)
        #expect(phase.referenceRead(instruments, next: 2) == .none, "market still behind")
        #expect(phase.checkTimeout(now: 500, timeoutMs: 1_000) == .none)
        #expect(phase.checkTimeout(now: 1_500, timeoutMs: 1_000) == .reportReferenceTimeout(afterMs: 1_500, behind: [market]))
        #expect(phase.checkTimeout(now: 2_500, timeoutMs: 1_000) == .none, "reported once")
        #expect(phase.referenceRead(market, next: 3) == .none)
        #expect(phase.referenceRead(market, next: 3, partitionEnd: true) == .startServing, "a commit marker hid the last offset")
        #expect(phase.isServing && phase.referenceRestored)
        #expect(phase.referenceRead(market, next: 9) == .none, "serving starts once")
        phase.drain()
        #expect(phase.state == .draining && !phase.isServing && phase.referenceRestored)
    }

    @Test("No targets: the phase waits (an empty target set is not 'caught up' before it is set)")
    func phaseWithoutTargets() {
        var phase = WorkerPhase()
        #expect(phase.referenceRead(TopicPartition(topic: Self.topics.market, partition: 0), next: 1) == .none)
        #expect(phase.state == .restoringReference)
    }

    @Test("Shards: only a newer version replaces an account; the exposure index follows stores, removals and revocations")
    func accountShards() {
        var shards = AccountShards()
        let key = AccountKey(partition: 3, id: "a")
        let v1 = Account(id: "a", version: 1, balances: ["USDC": 1])
        #expect(shards.store(v1, at: key, markets: ["BTC"], compile: { _ in }) == .notOwned)
        shards.assign(3, restoreTarget: 2, now: 0)
        #expect(shards.store(v1, at: key, markets: ["BTC"], compile: { _ in }) == .stored)
        shards.update(key) { $0.published = PublishedResult(resultID: "r1", accountVersion: 1, health: .healthy, maintenance: 0, initial: 0) }
        #expect(shards.store(v1, at: key, markets: ["ETH"], compile: { _ in }) == .notNewer)
        #expect(shards.keys(exposedTo: "BTC") == [key] && shards.keys(exposedTo: "ETH").isEmpty)
        let v2 = Account(id: "a", version: 2, balances: ["USDC": 2])
        #expect(shards.store(v2, at: key, markets: ["ETH"], compile: { _ in }) == .stored)
        #expect(shards.keys(exposedTo: "BTC").isEmpty && shards.keys(exposedTo: "ETH") == [key])
        #expect(shards[key]?.published?.resultID == "r1", "what was published stays with the account")
        #expect(shards[key]?.account.version == 2)

        #expect(shards[3]?.isServing == false)
        #expect(shards.advance(3, to: 1) == false)
        #expect(shards.advance(3, to: 2) == true, "the restore completes once")
        #expect(shards.advance(3, to: 5) == false && shards[3]?.isServing == true)
        shards.withShard(3) { $0.prepareRevocation() }
        #expect(shards[3]?.phase == .revoking)

        shards.remove(key)
        #expect(shards[key] == nil && shards.keys(exposedTo: "ETH").isEmpty)
        _ = shards.store(v2, at: key, markets: ["ETH"], compile: { _ in })
        #expect(shards.revoke(3)?.accounts.count == 1)
        #expect(shards.keys(exposedTo: "ETH").isEmpty && shards.accountCount == 0)
    }

    static func message(_ topic: String, key: String?, value: Data?, contentType: String? = nil) -> KafkaMessage {
        KafkaMessage(topic: topic, partition: 0, offset: 7, key: key.map { Data($0.utf8) }, value: value,
                     headers: contentType.map { [KafkaHeader(name: "content-type", string: $0)] } ?? [], timestampMs: 0)
    }

    @Test("Decoder: protobuf and JSON records become model values; tombstones, foreign topics; each bad record names its reason")
    func inputDecoder() throws {
        let decoder = InputDecoder(topics: Self.topics, bounds: .standard)
        let account = Account(id: "acct-1", version: 3, balances: ["USDC": 10])
        guard case .account("acct-1", let decoded?) = try decoder.decode(Self.message(Self.topics.accounts, key: "acct-1",
                                                                                      value: SchemaCoding.encode(account.proto, format: .protobuf))) else {
            Issue.record("an account")
            return
        }
        #expect(decoded.version == 3)
        let json = SchemaCoding.encode(TestWorld.btc(index: 60_000, at: 1).proto, format: .json)
        guard case .reference(.market("BTC", let market?)) = try decoder.decode(Self.message(Self.topics.market, key: "BTC", value: json,
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
        #expect(reason(Self.message(Self.topics.accounts, key: "other", value: SchemaCoding.encode(account.proto, format: .protobuf)))
            .contains("does not match key"))
        #expect(reason(Self.message(Self.topics.market, key: "BTC", value: Data("{".utf8), contentType: "application/json")) != "accepted")
        var extreme = TestWorld.btc(index: 60_000, at: 1)
        extreme.indexPrice = 1e300
        #expect(reason(Self.message(Self.topics.market, key: "BTC", value: SchemaCoding.encode(extreme.proto, format: .protobuf))) != "accepted")
    }

    @Test("Encoder: ids in headers, the state record in the account's partition, cancels under <id>-cancel, dead letters name their source")
    func outputEncoder() throws {
        let encoder = OutputEncoder(topics: Self.topics, format: .protobuf)
        var state = OutstandingInstruction(id: "liq-x", accountID: "a", accountVersion: 2, round: 1, deadlineMs: 9, partition: 5)
        state.cancelled = true
        let records = encoder.records(of: .cancel(state: state, parameterSetVersion: 4))
        #expect(records.map(\.topic) == [Self.topics.liquidations, Self.topics.liquidationState])
        #expect(records[0].headers.first { $0.name == "message-id" }?.value == Data("liq-x-cancel".utf8))
        let instruction = try SchemaCoding.decode(Margin_V1_LiquidationInstruction.self, from: try #require(records[0].value), format: .protobuf)
        #expect(instruction.cancel && instruction.id == "liq-x" && instruction.planRound == 1 && instruction.parameterSetVersion == 4)
        #expect(records[1].partition == 5 && records[1].key == Data("a".utf8))
        let restored = InputDecoder.liquidationStates([KafkaMessage(topic: Self.topics.liquidationState, partition: 5, offset: 0, key: records[1].key,
                                                                    value: records[1].value, headers: [], timestampMs: 0)])
        #expect(restored.problems.isEmpty && restored.states.first?.state == state, "the state record reads back")

        let bad = Self.message(Self.topics.accounts, key: "k", value: Data("x".utf8), contentType: "application/json")
        let letter = encoder.deadLetter(bad, reason: "invalid_input", error: "bad")
        let headers = Dictionary(letter.headers.map { ($0.name, String(decoding: $0.value ?? Data(), as: UTF8.self)) }, uniquingKeysWith: { a, _ in a })
        #expect(letter.topic == Self.topics.deadLetter && letter.value == bad.value)
        #expect(headers["dlq-source-topic"] == Self.topics.accounts && headers["dlq-source-offset"] == "7" && headers["content-type"] == "application/json")
        #expect(headers["message-id"] == DeterministicID.make("dlq", [Self.topics.accounts, "0", "7"]))
    }
}
