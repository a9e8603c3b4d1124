import Foundation
import Hummingbird
import HummingbirdTesting
import KafkaClient
import MarginCore
import MarginSchema
import Testing
import TestSupport
@testable import MarginWorker

/// Finite but extreme magnitudes never reach an output: they are dead-lettered (or answered 400)
/// naming the field, and no result carries NaN or infinity.
@Suite("Input bounds and finite outputs")
struct InputBoundsTests {
    static func accountRecord(_ account: Account, offset: Int64) -> KafkaMessage {
        KafkaMessage(topic: TopicNames().accounts, partition: 0, offset: offset, key: Data(account.id.utf8),
                     value: SchemaCoding.encode(account.proto, format: .protobuf), headers: [], timestampMs: IntegrityFixesTests.now)
    }

    static func deadLetters(_ engine: MarginEngine) async -> [[String: String]] {
        await engine.batch.records.filter { $0.topic == TopicNames().deadLetter }.map { record in
            Dictionary(record.headers.map { ($0.name, String(decoding: $0.value ?? Data(), as: UTF8.self)) }, uniquingKeysWith: { a, _ in a })
        }
    }

    @Test("Quantities, balances and prices beyond the bounds are dead-lettered naming the field; nothing non-finite is published")
    func extremeInputsAreDeadLettered() async throws {
        let (engine, _) = try await WorkerHTTPTests.engine()
        let huge = Account(id: "huge", version: 1, balances: ["USDC": 1_000],
                           positions: [Position(instrument: "BTC-PERPETUAL", quantity: 1e308, averageEntryPrice: 60_000)])
        let poor = Account(id: "poor", version: 1, balances: ["USDC": -1e308])
        await engine.handleAccounts(.message(Self.accountRecord(huge, offset: 10)))
        await engine.handleAccounts(.message(Self.accountRecord(poor, offset: 11)))
        await engine.handleReference(.message(IntegrityFixesTests.marketRecord(TestWorld.btc(index: 1e300, at: IntegrityFixesTests.now), offset: 20)))
        await engine.tick()
        let errors = await Self.deadLetters(engine).map { $0["dlq-error"] ?? "" }
        #expect(errors.contains { $0.contains("positions[0].quantity") && $0.contains("exceeds") })
        #expect(errors.contains { $0.contains("balances[USDC]") })
        #expect(errors.contains { $0.contains("index_price") })
        #expect(await engine.currentResult(accountID: "huge") == nil)
        // Every result in the batch is finite.
        for record in await engine.batch.records where record.topic == TopicNames().results {
            let result = try SchemaCoding.decode(Margin_V1_MarginResult.self, from: record.value ?? Data(), format: .protobuf)
            #expect(result.maintenanceRequirement.isFinite && result.equity.isFinite && result.initialRequirement.isFinite)
            #expect(result.riskUnits.allSatisfy { $0.scenarioPnls.allSatisfy { $0.isFinite } })
        }
    }

    @Test("The what-if answers 400 naming the field for an extreme quantity")
    func whatIfRefusesExtremeInput() async throws {
        let (engine, configuration) = try await WorkerHTTPTests.engine()
        let app = buildApplication(engine: engine, configuration: configuration, logger: WorkerHarness.logger)
        try await app.test(.router) { client in
            for body in [#"{"account_id":"w","positions":[{"instrument":"ETH-PERPETUAL","quantity":1e308,"average_entry_price":3000}]}"#,
                         #"{"account_id":"w","positions":[{"instrument":"ETH-PERPETUAL","quantity":-1e308,"average_entry_price":3000}]}"#] {
                try await client.execute(uri: "/v1/what-if", method: .post, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .badRequest)
                    #expect(String(buffer: response.body).contains("quantity"))
                    #expect(!String(buffer: response.body).contains("Infinity"))
                }
            }
        }
    }

    @Test("Bounds are settings")
    func boundsAreSettings() throws {
        var configuration = WorkerConfiguration()
        try configuration.set("max_quantity", "1000")
        #expect(configuration.inputBounds.maxQuantity == 1_000)
        let account = Account(id: "a", version: 1, positions: [Position(instrument: "BTC-PERPETUAL", quantity: 5_000, averageEntryPrice: 1)])
        #expect(throws: MarginError.self) { try account.validate(instruments: InstrumentCatalog(TestWorld.instruments), bounds: configuration.inputBounds) }
        configuration.maxPrice = 0
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }
}
