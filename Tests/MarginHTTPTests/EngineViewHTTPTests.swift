import EngineTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import MarginCore
@testable import MarginEngineCore
import MarginSchema
import MarginWorker
import Synchronization
import Testing
@testable import MarginHTTP

/// Every route but `/health` reads the engine's published snapshot: a pass that holds the engine
/// never delays them.
@Suite("HTTP while a pass holds the engine")
struct EngineViewHTTPTests {
    /// A clock that blocks its caller once armed, until released (with a bound, so a broken test
    /// fails instead of hanging).
    final class BlockingClock: Sendable {
        let armed = Atomic<Bool>(false)
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)

        func now() -> Int64 {
            if armed.exchange(false, ordering: .relaxed) {
                entered.signal()
                _ = release.wait(timeout: .now() + 10)
            }
            return EngineFixture.now
        }
    }

    @Test("ready, metrics, account queries, pre-trade, what-if and the console answer while the engine is inside a tick")
    func readersDoNotWaitForThePass() async throws {
        _ = TestMetrics.registry
        var configuration = WorkerConfiguration()
        configuration.maxRequestBytes = 4_096
        let clock = BlockingClock()
        let engine = await EngineFixture.engine(settings: configuration.engine, clock: { clock.now() },
                                                accounts: TestWorld.accounts(btc: 1, eth: 1))
        let app = buildApplication(engine: engine, configuration: configuration, registry: TestMetrics.registry, logger: EngineFixture.logger)
        // The engine enters a tick and stays in it: the clock blocks inside the actor.
        clock.armed.store(true, ordering: .relaxed)
        let tickDone = Atomic<Bool>(false)
        let tick = Task {
            await engine.tick()
            tickDone.store(true, ordering: .relaxed)
        }
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { clock.entered.wait(); continuation.resume() }
        }
        try await app.test(.router) { client in
            try await client.execute(uri: "/ready", method: .get) { response in
                let finished = tickDone.load(ordering: .relaxed)
                #expect(!finished, "/ready waited for the tick")
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"ready\":true"))
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let finished = tickDone.load(ordering: .relaxed)
                #expect(!finished, "/metrics waited for the tick")
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("margin_accounts"))
            }
            let whatIf = #"{"account_id":"w","positions":[{"instrument":"ETH-PERPETUAL","quantity":2,"average_entry_price":3000}],"balances":{"USDC":1000}}"#
            try await client.execute(uri: "/v1/what-if", method: .post, body: ByteBuffer(string: whatIf)) { response in
                let finished = tickDone.load(ordering: .relaxed)
                #expect(!finished, "the what-if waited for the tick")
                #expect(response.status == .ok)
                let result = try SchemaCoding.decode(Margin_V1_MarginResult.self, from: Data(response.body.readableBytesView), format: .json)
                #expect(result.accountID == "w" && result.maintenanceRequirement > 0)
            }
            // Account queries, the pre-trade check and the console read the same snapshot.
            try await client.execute(uri: "/v1/accounts/e0", method: .get) { response in
                let finished = tickDone.load(ordering: .relaxed)
                #expect(!finished, "the account query waited for the tick")
                #expect(response.status == .ok)
                let result = try SchemaCoding.decode(Margin_V1_MarginResult.self, from: Data(response.body.readableBytesView), format: .json)
                #expect(result.accountID == "e0" && result.maintenanceRequirement > 0)
            }
            let order = #"{"order_id":"o1","instrument":"ETH-PERPETUAL","side":"ORDER_SIDE_BUY","quantity":0.1,"limit_price":3000}"#
            try await client.execute(uri: "/v1/accounts/e0/pre-trade", method: .post, body: ByteBuffer(string: order)) { response in
                let finished = tickDone.load(ordering: .relaxed)
                #expect(!finished, "the pre-trade check waited for the tick")
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"fits\":true"))
            }
            for uri in ["/", "/accounts/b0"] {
                try await client.execute(uri: uri, method: .get) { response in
                    let finished = tickDone.load(ordering: .relaxed)
                    #expect(!finished, "the console page \(uri) waited for the tick")
                    #expect(response.status == .ok)
                }
            }
        }
        // Everything above was answered while the tick was still blocked.
        let finished = tickDone.load(ordering: .relaxed)
        #expect(!finished)
        clock.release.signal()
        await tick.value
    }

    @Test("The snapshot's account answer is the result the engine published for it")
    func snapshotAnswerEqualsThePublishedResult() async throws {
        let engine = await EngineFixture.engine(accounts: TestWorld.accounts(btc: 2, eth: 2))
        // The last result queued per account (the fixture's restore and tick publish full results).
        let published = Dictionary(await engine.batch.results.map { ($0.accountID, $0.result) }, uniquingKeysWith: { $1 })
        let snapshot = try #require(engine.view.snapshot)
        #expect(published.count == 4)
        for (accountID, output) in published {
            let answer = try #require(snapshot.currentResult(accountID: accountID))
            #expect(answer.result.id == output.id, "\(accountID): the snapshot's answer names another content")
        }
    }

    @Test("The what-if against the engine's books equals the what-if that builds its own")
    func whatIfReusesTheEnginesBooks() async throws {
        let engine = await EngineFixture.engine(accounts: TestWorld.accounts(btc: 1, eth: 1))
        let snapshot = try #require(engine.view.snapshot)
        let account = Account(id: "w", balances: ["USDC": 50_000],
                              positions: [Position(instrument: "ETH-PERPETUAL", quantity: -3, averageEntryPrice: 3_000)]
                                + TestWorld.accounts(btc: 1, eth: 0)[0].positions)
        let viaView = try snapshot.whatIf(account)
        let markets = MarketState(EngineFixture.markets)
        let built = try MarginCalculator(parameters: EngineFixture.preset).margin(
            account: account, catalog: InstrumentCatalog(TestWorld.instruments), markets: markets,
            asOfMs: markets.underlyings.values.map(\.timestampMs).max()!)
        #expect(abs(viaView.maintenanceRequirement - built.maintenanceRequirement) <= 1e-9 * built.maintenanceRequirement)
        #expect(abs(viaView.initialRequirement - built.initialRequirement) <= 1e-9 * built.initialRequirement)
        #expect(viaView.maintenanceRequirement > 0)
    }
}
