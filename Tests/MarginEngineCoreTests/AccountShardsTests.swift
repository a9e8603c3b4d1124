import EngineTestSupport
import MarginCore
import Testing
@testable import MarginEngineCore

/// The accounts held in memory: the version rule, the exposure index, and each shard's restore phase.
@Suite("Account shards")
struct AccountShardsTests {
    @Test("Shards: only a newer version replaces an account; the exposure index follows stores, removals and revocations")
    func accountShards() {
        var shards = AccountShards()
        let key = AccountKey(partition: 3, id: "a")
        let v1 = Account(id: "a", version: 1, balances: ["USDC": 1])
        #expect(shards.store(v1, at: key, markets: ["BTC"], compile: { _ in }) == .notOwned)
        shards.assign(3, restoreTarget: 2, now: 0)
        #expect(shards.store(v1, at: key, markets: ["BTC"], compile: { _ in }) == .stored)
        shards.update(key) { $0.effectiveHealth = .healthy }
        #expect(shards.store(v1, at: key, markets: ["ETH"], compile: { _ in }) == .notNewer)
        #expect(shards.keys(exposedTo: "BTC") == [key] && shards.keys(exposedTo: "ETH").isEmpty)
        let v2 = Account(id: "a", version: 2, balances: ["USDC": 2])
        #expect(shards.store(v2, at: key, markets: ["ETH"], compile: { _ in }) == .stored)
        #expect(shards.keys(exposedTo: "BTC").isEmpty && shards.keys(exposedTo: "ETH") == [key])
        #expect(shards[key]?.effectiveHealth == .healthy, "what was observed stays with the account")
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

    @Test("The uncompiled accounts follow every store, update, recompile, removal and revocation (against a scan of the entries)")
    func uncompiledAccounts() throws {
        let exposure = try AccountExposure(account: Account(id: "x", balances: ["USDC": 1]), catalog: InstrumentCatalog([]), books: [:],
                                           parameters: EngineFixture.preset)
        var generator = SeededGenerator(seed: 41)
        var shards = AccountShards()
        var versions: [AccountKey: UInt64] = [:]
        func compile(_ entry: inout AccountEntry) { entry.exposure = Bool.random(using: &generator) ? exposure : nil }
        for step in 0..<3_000 {
            let key = AccountKey(partition: Int32.random(in: 0..<4, using: &generator), id: "a\(Int.random(in: 0..<40, using: &generator))")
            switch Int.random(in: 0..<10, using: &generator) {
            case 0: shards.assign(key.partition, restoreTarget: 0, now: 0)
            case 1: _ = shards.revoke(key.partition)
            case 2: shards.remove(key)
            case 3: shards.recompile(key, markets: { _ in ["BTC"] }, compile: compile)
            case 4, 5: shards.update(key, compile)
            default:
                let version = versions[key, default: 0] + UInt64.random(in: 0...1, using: &generator)
                versions[key] = version
                _ = shards.store(Account(id: key.id, version: version), at: key, markets: ["BTC"], compile: compile)
            }
            let scanned = Set(shards.shards.values.flatMap { shard in
                shard.accounts.filter { $0.value.exposure == nil }.map { AccountKey(partition: shard.partition, id: $0.key) }
            })
            #expect(shards.uncompiled == scanned, "step \(step)")
            if shards.uncompiled != scanned { return }
        }
    }

    @Test("Published results: recorded per account, kept apart from the shards, released with a partition or an account")
    func publishedResults() {
        var published = PublishedResults()
        let a = AccountKey(partition: 1, id: "a"), b = AccountKey(partition: 1, id: "b"), c = AccountKey(partition: 2, id: "a")
        for key in [a, b, c] {
            published.record(PublishedResult(resultID: "r-\(key.partition)-\(key.id)", accountVersion: 1, health: .healthy, maintenance: 0, initial: 0), for: key)
        }
        #expect(published[a]?.resultID == "r-1-a" && published[c]?.resultID == "r-2-a", "the same id in two partitions is two accounts")
        published.remove(b)
        #expect(published[b] == nil && published.count == 2)
        published.release(1)
        #expect(published[a] == nil && published[c] != nil && published.count == 1)
    }
}
