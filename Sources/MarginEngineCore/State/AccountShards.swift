import MarginCore

/// The accounts of this instance's partitions: one ``AccountShard`` per assigned partition, the
/// version rule, and the exposure index (underlying → the accounts whose valuation reads it).
/// Every change to an account goes through here, so the index always matches the entries.
struct AccountShards: Sendable {
    private(set) var shards: [Int32: AccountShard] = [:]
    private var exposed: [String: Set<AccountKey>] = [:]
    /// Accounts per health after the stale guard (accounts not margined yet are not counted),
    /// kept as entries change so that no tick scans every account for the gauge.
    private(set) var healthCounts: [HealthState: Int] = [:]
    /// The held accounts without a compiled exposure (waiting for a market or parameters, or
    /// refused when compiled), kept as entries change so that a market tick finds the ones it
    /// may now compile without looking up every exposed account.
    private(set) var uncompiled: Set<AccountKey> = []

    subscript(partition: Int32) -> AccountShard? { shards[partition] }
    subscript(key: AccountKey) -> AccountEntry? { shards[key.partition]?.accounts[key.id] }

    /// Reads from an account's entry where it is stored; nil if it is not held. Not mutating: a
    /// table the published snapshot shares is read, never copied (a mutating access would copy the
    /// shard's whole table first), and the entry is borrowed, not copied.
    func read<T>(_ key: AccountKey, _ body: (borrowing AccountEntry) -> T) -> T? {
        guard let shard = shards.index(forKey: key.partition) else { return nil }
        let table = shards.values[shard].accounts
        guard let index = table.index(forKey: key.id) else { return nil }
        return body(table.values[index])
    }

    /// Whether the account is held.
    func contains(_ key: AccountKey) -> Bool { read(key) { _ in () } != nil }

    /// The entry of `key`, in place.
    private mutating func withEntry<T>(_ key: AccountKey, _ body: (inout AccountEntry) -> T) -> T? {
        guard let index = shards[key.partition]?.accounts.index(forKey: key.id) else { return nil }
        return body(&shards[key.partition]!.accounts.values[index])
    }

    var partitions: [Int32] { shards.keys.sorted() }
    var accountCount: Int { shards.values.reduce(0) { $0 + $1.accounts.count } }
    /// Every account's key.
    var allKeys: [AccountKey] { shards.keys.flatMap(keys(in:)) }

    /// The keys of the accounts one shard holds (none when the partition is not held).
    func keys(in partition: Int32) -> [AccountKey] {
        shards[partition]?.accounts.keys.map { AccountKey(partition: partition, id: $0) } ?? []
    }

    /// The accounts whose valuation reads `underlying`.
    func keys(exposedTo underlying: String) -> Set<AccountKey> { exposed[underlying] ?? [] }

    /// The account with this id in any shard.
    func find(id: String) -> (key: AccountKey, entry: AccountEntry)? {
        for shard in shards.values { if let entry = shard.accounts[id] { return (AccountKey(partition: shard.partition, id: id), entry) } }
        return nil
    }

    // MARK: Shards

    mutating func assign(_ partition: Int32, restoreTarget: Int64, answeredBefore: Int64? = nil, now: Int64) {
        if shards[partition] != nil { _ = revoke(partition) }
        shards[partition] = AccountShard(partition: partition, restoreTarget: restoreTarget, assignedAtMs: now, answeredBefore: answeredBefore)
    }

    /// Removes a shard and its accounts from the index; the shard as it was, or nil if not held.
    mutating func revoke(_ partition: Int32) -> AccountShard? {
        guard let shard = shards.removeValue(forKey: partition) else { return nil }
        for (id, entry) in shard.accounts { forget(AccountKey(partition: partition, id: id), entry) }
        return shard
    }

    /// Moves a shard's consumed position; true when its restore completes (see ``AccountShard/advance(to:)``).
    mutating func advance(_ partition: Int32, to next: Int64) -> Bool {
        shards[partition]?.advance(to: next) ?? false
    }

    mutating func withShard<T>(_ partition: Int32, _ body: (inout AccountShard) -> T) -> T? {
        guard shards[partition] != nil else { return nil }
        return body(&shards[partition]!)
    }

    // MARK: Accounts

    /// The outcome of storing an account record.
    enum Stored: Equatable {
        case stored
        /// The version held is the same or newer (a replay or out-of-order record): nothing changed.
        case notNewer
        /// The partition is not (or no longer) this instance's.
        case notOwned
    }

    /// Stores a new version of an account (the version rule: only a higher version replaces the
    /// held one), compiled by `compile` and indexed under `markets`; keeps what was observed for it.
    mutating func store(_ account: Account, at key: AccountKey, markets: Set<String>, compile: (inout AccountEntry) -> Void) -> Stored {
        guard shards[key.partition] != nil else { return .notOwned }
        let held = self[key]
        if let held {
            guard held.account.version < account.version else { return .notNewer }
            unindex(key, held.indexedMarkets)
        }
        // What was observed for the account stays; its exposure is compiled anew.
        var entry = held ?? AccountEntry(account: account)
        entry.account = account
        entry.exposure = nil
        compile(&entry)
        entry.indexedMarkets = markets.sorted()
        index(key, entry.indexedMarkets)
        noteCompiled(key, was: held.map { $0.exposure != nil } ?? true, is: entry.exposure != nil)
        shards[key.partition]!.accounts[key.id] = entry
        return .stored
    }

    /// Removes an account (a tombstone of its key).
    mutating func remove(_ key: AccountKey) {
        guard let entry = shards[key.partition]?.accounts.removeValue(forKey: key.id) else { return }
        forget(key, entry)
    }

    /// What an entry's removal undoes: its index entries, its health in the tally, its place
    /// among the uncompiled accounts.
    private mutating func forget(_ key: AccountKey, _ entry: AccountEntry) {
        unindex(key, entry.indexedMarkets)
        count(entry.effectiveHealth, -1)
        if entry.exposure == nil { uncompiled.remove(key) }
    }

    /// Changes an account's entry in place (not its account or index) and returns what `body`
    /// returns; nil if it is not held.
    @discardableResult
    mutating func update<T>(_ key: AccountKey, _ body: (inout AccountEntry) -> T) -> T? {
        guard let (result, before, after, compiled) = withEntry(key, { entry in
            let before = entry.effectiveHealth, compiled = entry.exposure != nil
            let result = body(&entry)
            return (result, before, entry.effectiveHealth, (was: compiled, is: entry.exposure != nil))
        }) else { return nil }
        if before != after {
            count(before, -1)
            count(after, 1)
        }
        noteCompiled(key, was: compiled.was, is: compiled.is)
        return result
    }

    private mutating func count(_ health: HealthState?, _ delta: Int) {
        guard let health else { return }
        healthCounts[health, default: 0] += delta
    }

    /// Keeps ``uncompiled`` in step with an entry whose exposure was and is there or not (a new
    /// entry counts as compiled before).
    private mutating func noteCompiled(_ key: AccountKey, was: Bool, is compiled: Bool) {
        guard was != compiled else { return }
        if compiled { uncompiled.remove(key) } else { uncompiled.insert(key) }
    }

    /// Recompiles an account and re-indexes it under the markets it reads now (the catalog or
    /// parameters changed).
    mutating func recompile(_ key: AccountKey, markets: (Account) -> Set<String>, compile: (inout AccountEntry) -> Void) {
        guard let indexed = withEntry(key, { entry -> (old: [String], new: [String], compiled: (was: Bool, is: Bool)) in
            let old = entry.indexedMarkets, compiled = entry.exposure != nil
            compile(&entry)
            entry.indexedMarkets = markets(entry.account).sorted()
            return (old, entry.indexedMarkets, (compiled, entry.exposure != nil))
        }) else { return }
        unindex(key, indexed.old)
        index(key, indexed.new)
        noteCompiled(key, was: indexed.compiled.was, is: indexed.compiled.is)
    }

    private mutating func index(_ key: AccountKey, _ markets: [String]) {
        for underlying in markets { exposed[underlying, default: []].insert(key) }
    }

    private mutating func unindex(_ key: AccountKey, _ markets: [String]) {
        for underlying in markets {
            exposed[underlying]?.remove(key)
            if exposed[underlying]?.isEmpty == true { exposed[underlying] = nil }
        }
    }
}
