import Foundation
import Logging
import MarginCore
import MarginEngineCore
import MarginSchema

/// Engines fed domain events directly, without a broker or a wire format: the one builder of the
/// engine's unit tests (and of the HTTP tests, which query such an engine).
public enum EngineFixture {
    public static let now: Int64 = 1_700_000_000_000

    /// The topics the fixture's records name (the engine only tracks them as partitions).
    public enum Topic {
        public static let instruments = "margin.instruments.v1"
        public static let market = "margin.market.v1"
        public static let params = "margin.params.v1"
        public static let accounts = "margin.accounts.v1"
    }

    /// Quiet unless `WORKER_TEST_LOG` is set.
    public static let logger: Logger = {
        var logger = Logger(label: "engine-test", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = ProcessInfo.processInfo.environment["WORKER_TEST_LOG"] != nil ? .debug : .critical
        return logger
    }()

    /// The shipped `deribit-like` set the worker falls back to before the params topic has one.
    public static let preset: RiskParameters = {
        do { return try RiskPresets.load("deribit-like") } catch { fatalError("the shipped preset does not load: \(error)") }
    }()

    public static func source(_ topic: String, offset: Int64, partition: Int32 = 0, key: String? = nil) -> RecordSource {
        RecordSource(partition: InputPartition(topic: topic, partition: partition), offset: offset, key: key.map { Array($0.utf8) }, value: nil)
    }

    /// An account record (nil: a tombstone of `id`) at `offset` of an accounts partition.
    public static func account(_ account: Account, offset: Int64, partition: Int32 = 0) -> AccountsEvent {
        .record(source(Topic.accounts, offset: offset, partition: partition, key: account.id), id: account.id, account: .success(account))
    }

    public static func market(_ market: UnderlyingMarket, offset: Int64) -> ReferenceEvent {
        .record(source(Topic.market, offset: offset, key: market.underlying), input: .success(.market(key: market.underlying, market)))
    }

    public static func instrument(_ instrument: Instrument, offset: Int64) -> ReferenceEvent {
        .record(source(Topic.instruments, offset: offset, key: instrument.name), input: .success(.instrument(key: instrument.name, instrument)))
    }

    public static func parameters(_ parameters: RiskParameters, offset: Int64) -> ReferenceEvent {
        .record(source(Topic.params, offset: offset, key: parameters.id), input: .success(.parameters(key: parameters.id, parameters)))
    }

    /// The markets of ``TestWorld`` at `now`: BTC 60,000, ETH 3,000, USDC.
    public static var markets: [UnderlyingMarket] {
        [TestWorld.btc(index: 60_000, at: now), TestWorld.eth(index: 3_000, at: now), TestWorld.usdc(at: now)]
    }

    /// An engine whose reference data (``TestWorld`` instruments by default, `markets`, and
    /// `parameters` as from the params topic) is restored (which builds the risk books), with
    /// accounts partition 0 assigned and restored at once, `accounts` read from it, and one tick run.
    public static func engine(settings: EngineSettings = EngineSettings(), clock: @escaping @Sendable () -> Int64 = { now },
                              instruments: [Instrument] = TestWorld.instruments, markets: [UnderlyingMarket] = markets,
                              parameters: RiskParameters? = nil, accountsPartitionCount: Int? = nil,
                              accounts: [Account] = []) async -> MarginEngine {
        let engine = MarginEngine(settings: settings, preset: settings.paramsID == preset.id ? preset : nil, logger: logger, clock: clock)
        var targets = [InputPartition(topic: Topic.instruments, partition: 0): Int64(instruments.count),
                       InputPartition(topic: Topic.market, partition: 0): Int64(markets.count)]
        if parameters != nil { targets[InputPartition(topic: Topic.params, partition: 0)] = 1 }
        await engine.setReferenceTargets(targets)
        for (i, instrument) in instruments.enumerated() { await engine.handleReference(Self.instrument(instrument, offset: Int64(i))) }
        for (i, market) in markets.enumerated() { await engine.handleReference(Self.market(market, offset: Int64(i))) }
        if let parameters { await engine.handleReference(Self.parameters(parameters, offset: 0)) }
        if let accountsPartitionCount { await engine.setAccountsPartitionCount(accountsPartitionCount) }
        await engine.assignShards([ShardAssignment(partition: 0, restoreTarget: 0)])
        for (i, account) in accounts.enumerated() { await engine.handleAccounts(Self.account(account, offset: Int64(i))) }
        await engine.tick()
        return engine
    }
}

extension MarginEngine {
    /// Takes the pending batch and reports it committed, as the service does after its transaction;
    /// nil when nothing was pending.
    @discardableResult
    public func commitBatch() -> OutputBatch? {
        guard let batch = takeBatch() else { return nil }
        finishBatch(batch, committed: true)
        return batch
    }
}

extension OutputBatch {
    /// The results in this batch, in order, with their account ids.
    public var results: [(accountID: String, result: ResultOutput)] {
        outputs.compactMap { if case .result(let id, let result) = $0 { (id, result) } else { nil } }
    }

    public var liquidationActions: [LiquidationAction] {
        outputs.compactMap { if case .liquidation(let action) = $0 { action } else { nil } }
    }

    public var deadLetters: [DeadLetter] {
        outputs.compactMap { if case .deadLetter(let letter) = $0 { letter } else { nil } }
    }
}

extension ResultOutput {
    /// The explained result (nil for a summary or an error result).
    public var full: MarginResult? {
        if case .full(_, let result) = self { result } else { nil }
    }

    public var isSummary: Bool {
        if case .summary = self { true } else { false }
    }
}
