import EngineTestSupport
import Foundation
import MarginCore
import Testing
@testable import MarginEngineCore

/// The coordinator alone, without an engine or a broker: accounts are margined against a
/// ``ReferenceStore`` and observed, and each window's actions are read back.
@Suite("Liquidation coordinator: ordering, budget, rounds, supersede, cancel")
struct LiquidationCoordinatorTests {
    static let now = EngineFixture.now

    /// The reference data of ``TestWorld`` with ETH at `eth`, books built.
    static func store(eth: Double) throws -> ReferenceStore {
        var store = ReferenceStore(parametersID: EngineFixture.preset.id, preset: EngineFixture.preset)
        for instrument in TestWorld.instruments { try store.apply(.instrument(key: instrument.name, instrument), nowMs: now, maxClockSkewMs: 0) }
        for market in [TestWorld.btc(index: 60_000, at: now), TestWorld.eth(index: eth, at: now), TestWorld.usdc(at: now)] {
            try store.apply(.market(key: market.underlying, market), nowMs: now, maxClockSkewMs: 0)
        }
        #expect(store.takeRebuild() == .everything)
        #expect(store.rebuildBooks(store.data.markets.underlyings.keys).isEmpty)
        return store
    }

    /// A leveraged ETH long: `perpetuals` at 3,000 against `usdc`.
    static func account(_ id: String, usdc: Double, perpetuals: Double = 30, version: UInt64 = 1) -> Account {
        Account(id: id, version: version, balances: ["USDC": usdc],
                positions: [Position(instrument: "ETH-PERPETUAL", quantity: perpetuals, averageEntryPrice: 3_000)])
    }

    /// Margins `account` against `store` and lets the coordinator observe it; returns its health.
    @discardableResult
    static func observe(_ account: Account, partition: Int32 = 0, store: ReferenceStore, into coordinator: inout LiquidationCoordinator) throws -> HealthState {
        var entry = AccountEntry(account: account)
        store.compile(&entry)
        let exposure = try #require(entry.exposure)
        let summary = try #require(store.calculator).summary(exposure, books: store.data.riskBooks, markets: store.data.markets)
        coordinator.observe(AccountKey(partition: partition, id: account.id), account: account, health: summary.health, summary: summary)
        return summary.health
    }

    static func context(_ store: ReferenceStore, stale: Set<String> = [], serving: Set<Int32> = [0]) throws -> LiquidationContext {
        LiquidationContext(calculator: try #require(store.calculator), reference: store.data, isStale: { stale.contains($0) },
                           isServing: { serving.contains($0) })
    }

    static func instructed(_ actions: [LiquidationAction]) -> [String] {
        actions.compactMap { if case .instruct(_, let state, _, _, _) = $0 { state.accountID } else { nil } }
    }

    @Test("Instructions come out in severity order (shortfall over MM), each with its state record's identity")
    func severityOrder() throws {
        let store = try Self.store(eth: 2_600)
        var coordinator = LiquidationCoordinator(settings: LiquidationSettings())
        for (id, usdc) in [("mild", 22_000.0), ("worst", 19_000.0), ("middle", 20_500.0)] {
            #expect(try Self.observe(Self.account(id, usdc: usdc), store: store, into: &coordinator) == .liquidatable)
        }
        let actions = coordinator.plan(now: Self.now, context: try Self.context(store))
        #expect(Self.instructed(actions) == ["worst", "middle", "mild"])
        for action in actions {
            #expect(action.state.id == DeterministicID.make("liq", [action.state.accountID, "1", "0"]))
            #expect(action.state.round == 0 && action.state.isLive && action.commit.isInstruction)
        }
    }

    @Test("The budget is spent in severity order: the next account waits with reason budget; the next window refills it")
    func budget() throws {
        let store = try Self.store(eth: 2_600)
        var coordinator = LiquidationCoordinator(settings: LiquidationSettings())
        coordinator.budgetShare = 1e-3 // a sliver of the book: less than the worst account needs
        for (id, usdc) in [("a", 21_000.0), ("b", 22_000.0)] { try Self.observe(Self.account(id, usdc: usdc), store: store, into: &coordinator) }
        let first = coordinator.plan(now: Self.now, context: try Self.context(store))
        #expect(Self.instructed(first) == ["a"], "the most severe account takes the window's budget")
        #expect(coordinator.waiting[AccountKey(partition: 0, id: "b")] == .budget)
        coordinator.committed(first.map(\.commit))
        let second = coordinator.plan(now: Self.now + LiquidationSettings().budgetWindow.milliseconds, context: try Self.context(store))
        #expect(Self.instructed(second) == ["b"], "a stays outstanding; b is instructed from the new window's budget")
    }

    @Test("An outstanding instruction waits for its deadline; the next round supersedes it under a new id")
    func roundsAndSupersede() throws {
        let store = try Self.store(eth: 2_600)
        var settings = LiquidationSettings()
        settings.deadline = .seconds(5)
        var coordinator = LiquidationCoordinator(settings: settings)
        let account = Self.account("lev", usdc: 22_000)
        try Self.observe(account, store: store, into: &coordinator)
        let first = coordinator.plan(now: Self.now, context: try Self.context(store))
        coordinator.committed(first.map(\.commit))
        let original = try #require(first.first?.state)
        #expect(original.deadlineMs == Self.now + 5_000)

        // Still liquidatable before the deadline: nothing new while the instruction is outstanding.
        try Self.observe(account, store: store, into: &coordinator)
        #expect(coordinator.plan(now: Self.now + 4_000, context: try Self.context(store)).isEmpty)
        #expect(coordinator.outstandingCount == 1)

        // Past the deadline: round 1, superseding round 0.
        try Self.observe(account, store: store, into: &coordinator)
        let next = coordinator.plan(now: Self.now + 6_000, context: try Self.context(store))
        guard case .instruct(_, let state, _, let supersedes, _) = try #require(next.first) else {
            Issue.record("expected an instruction")
            return
        }
        #expect(state.round == 1 && supersedes == original.id)
        #expect(state.id == DeterministicID.make("liq", ["lev", "1", "1"]) && state.id != original.id)
    }

    @Test("A recovered account's live instruction is cancelled; the next plan for that version takes the next round")
    func cancelOnRecovery() throws {
        let crashed = try Self.store(eth: 2_600)
        var coordinator = LiquidationCoordinator(settings: LiquidationSettings())
        let account = Self.account("lev", usdc: 22_000)
        try Self.observe(account, store: crashed, into: &coordinator)
        let first = coordinator.plan(now: Self.now, context: try Self.context(crashed))
        coordinator.committed(first.map(\.commit))
        let original = try #require(first.first?.state)

        let recovered = try Self.store(eth: 3_000)
        #expect(try Self.observe(account, store: recovered, into: &coordinator) == .healthy)
        let cancels = coordinator.plan(now: Self.now + 100, context: try Self.context(recovered))
        guard case .cancel(let state, _) = try #require(cancels.first) else {
            Issue.record("expected a cancel")
            return
        }
        #expect(cancels.count == 1 && state.id == original.id && !state.isLive && !cancels[0].commit.isInstruction)
        #expect(coordinator.outstandingCount == 0)

        try Self.observe(account, store: crashed, into: &coordinator)
        let again = coordinator.plan(now: Self.now + 200, context: try Self.context(crashed))
        #expect(again.first?.state.round == 1, "a cancelled round is never reused: its id names one content")
    }

    @Test("Nothing is planned on a stale market or for a shard that does not serve")
    func staleAndNotServing() throws {
        let store = try Self.store(eth: 2_600)
        var coordinator = LiquidationCoordinator(settings: LiquidationSettings())
        try Self.observe(Self.account("lev", usdc: 22_000), store: store, into: &coordinator)
        #expect(coordinator.plan(now: Self.now, context: try Self.context(store, stale: ["ETH"])).isEmpty)
        #expect(coordinator.plan(now: Self.now, context: try Self.context(store, serving: [])).isEmpty)
        #expect(Self.instructed(coordinator.plan(now: Self.now, context: try Self.context(store))) == ["lev"])
    }

    @Test("Restored liquidation state: tombstones clear, the latest record wins")
    func restore() throws {
        var coordinator = LiquidationCoordinator(settings: LiquidationSettings())
        let state = OutstandingInstruction(id: "liq-1", accountID: "a", accountVersion: 1, round: 0, deadlineMs: Self.now, partition: 0)
        coordinator.restore([("a", state), ("b", state), ("b", nil)])
        #expect(coordinator.outstanding.keys.sorted() == ["a"])
        coordinator.release(partition: 0)
        #expect(coordinator.outstanding.isEmpty)
    }
}
