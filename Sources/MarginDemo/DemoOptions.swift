import MarginEngineCore

/// Options of `margin-engine demo`.
public struct DemoOptions: Sendable {
    public var accounts = 10_000
    public var seed: UInt64 = 42
    /// Simulated seconds per real second.
    public var speed = 10.0
    /// Simulated seconds between market snapshots.
    public var stepSeconds = 2.0
    /// Partitions of the accounts topic and its co-partitioned outputs. With summaries for market
    /// moves, the default run publishes about 50 MB of results (10,000 explained results of about
    /// 1.8 KB, then about 100,000 summaries): 16 partitions keep each under the embedded broker's
    /// 5 MiB per partition, so nothing is dropped.
    public var partitions: Int32 = 16
    /// What a market-driven republish carries (`market_results`): summaries, as at venue scale; the
    /// explanation stays one `GET /v1/accounts/{id}` away, and every new version or health change is
    /// published explained.
    public var marketResults = EngineSettings.MarketResults.summary
    public var path = CrashPath()
    /// Print the live status line.
    public var showStatus = true

    public init() {}
}
