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
