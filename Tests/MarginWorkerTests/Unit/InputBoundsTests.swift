import EngineTestSupport
import Foundation
import KafkaClient
import MarginCore
import MarginSchema
import Testing
@testable import MarginEngineCore
@testable import MarginWorker

/// Finite but extreme magnitudes never reach an output: records carrying them are dead-lettered
/// naming the field (by the decoder or the engine), and no result carries NaN or infinity.
@Suite("Input bounds and finite outputs")
struct InputBoundsTests {
    static let topics = TopicNames()
    static let decoder = InputDecoder(topics: topics, bounds: .standard)

    static func record(_ topic: String, _ key: String, _ value: Data, offset: Int64) -> KafkaMessage {
        KafkaMessage(topic: topic, partition: 0, offset: offset, key: Data(key.utf8), value: value, headers: [], timestampMs: EngineFixture.now)
    }

    @Test("Quantities, balances and prices beyond the bounds are dead-lettered naming the field; nothing non-finite is published")
    func extremeInputsAreDeadLettered() async throws {
        let engine = await EngineFixture.engine(accounts: TestWorld.accounts(btc: 1, eth: 1))
        let huge = Account(id: "huge", version: 1, balances: ["USDC": 1_000],
                           positions: [Position(instrument: "BTC-PERPETUAL", quantity: 1e308, averageEntryPrice: 60_000)])
        let poor = Account(id: "poor", version: 1, balances: ["USDC": -1e308])
        for (offset, account) in [(10, huge), (11, poor)] {
            let record = Self.record(Self.topics.accounts, account.id, try SchemaCoding.encode(account.proto, format: .protobuf), offset: Int64(offset))
            await engine.handleAccounts(try #require(Self.decoder.accountsEvent(.message(record))))
        }
        let market = TestWorld.btc(index: 1e300, at: EngineFixture.now)
        let marketRecord = Self.record(Self.topics.market, "BTC", try SchemaCoding.encode(market.proto, format: .protobuf), offset: 20)
        await engine.handleReference(try #require(Self.decoder.referenceEvent(.message(marketRecord))))
        await engine.tick()
        let errors = await engine.batch.deadLetters.map(\.error)
        #expect(errors.contains { $0.contains("positions[0].quantity") && $0.contains("exceeds") })
        #expect(errors.contains { $0.contains("balances[USDC]") })
        #expect(errors.contains { $0.contains("index_price") })
        #expect(await engine.currentResult(accountID: "huge") == nil)
        // Every result in the batch is finite, as encoded.
        let encoder = OutputEncoder(topics: Self.topics, format: .protobuf)
        for (accountID, output) in await engine.batch.results {
            let record = try encoder.record(of: output, accountID: accountID)
            let result = try SchemaCoding.decode(Margin_V1_MarginResult.self, from: record.value ?? Data(), format: .protobuf)
            #expect(result.maintenanceRequirement.isFinite && result.equity.isFinite && result.initialRequirement.isFinite)
            #expect(result.riskUnits.allSatisfy { $0.scenarioPnls.allSatisfy { $0.isFinite } })
        }
    }

    @Test("An account record with more positions, balances or open orders than the limits is dead-lettered naming the limit")
    func countsAreBounded() async throws {
        var settings = EngineSettings()
        settings.inputBounds = InputBounds(maxPositions: 1, maxBalances: 1, maxOpenOrders: 1)
        let engine = await EngineFixture.engine(settings: settings, accounts: TestWorld.accounts(btc: 0, eth: 1))
        let wide = Account(id: "wide", version: 1, balances: ["USDC": 1_000, "BTC": 1],
                           positions: [Position(instrument: "ETH-PERPETUAL", quantity: 1, averageEntryPrice: 3_000)])
        let long = Account(id: "long", version: 1, balances: ["USDC": 1_000],
                           positions: [Position(instrument: "ETH-PERPETUAL", quantity: 1, averageEntryPrice: 3_000),
                                       Position(instrument: "BTC-PERPETUAL", quantity: 1, averageEntryPrice: 60_000)])
        for (offset, account) in [(10, wide), (11, long)] {
            let record = Self.record(Self.topics.accounts, account.id, try SchemaCoding.encode(account.proto, format: .protobuf), offset: Int64(offset))
            await engine.handleAccounts(try #require(Self.decoder.accountsEvent(.message(record))))
        }
        let errors = await engine.batch.deadLetters.map(\.error)
        #expect(errors.contains { $0.contains("account wide.balances") && $0.contains("more than 1 entries") })
        #expect(errors.contains { $0.contains("account long.positions") && $0.contains("more than 1 entries") })
        #expect(await engine.currentResult(accountID: "wide") == nil)
        #expect(await engine.currentResult(accountID: "long") == nil)
        // The account within the limits is held and margined.
        #expect(await engine.currentResult(accountID: "e0") != nil)
    }
}
