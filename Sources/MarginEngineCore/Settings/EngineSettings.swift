import MarginCore

/// What the engine is configured with (the `margin-engine run` settings that are not about Kafka,
/// HTTP or encoding). Loaded once by the worker's configuration table, typed: durations are
/// `Duration`, choices are enums.
public struct EngineSettings: Sendable, Hashable {
    /// What a market-driven republish (same account version and health, MM or IM moved beyond
    /// `publishThreshold`) carries.
    public enum MarketResults: String, Sendable, Hashable, CaseIterable {
        /// The explained result, like every other publication.
        case full
        /// The figures without the explanation (`summary_only`; about a tenth of the cost). The default.
        case summary
    }

    /// This instance's id (a metrics label).
    public var instanceID = "margin-engine"
    /// Risk-parameter set used (from the params topic, else the shipped preset of that name).
    public var paramsID = "deribit-like"
    /// A market snapshot older than this marks exposed accounts `stale`.
    public var staleAfter: Duration = .seconds(10)
    /// A market snapshot dated more than this far ahead of the clock is dead-lettered.
    public var maxClockSkew: Duration = .seconds(5)
    /// A partition still restoring after this long is logged as an error and counted in
    /// `margin_restore_timeouts_total{kind}`; it keeps restoring and the instance stays not ready.
    public var restoreTimeout: Duration = .seconds(120)
    /// How often a partition's consumed position is recorded on the liquidation-state topic for its
    /// next owner (at a revocation and at shutdown always): a successor after a crash answers again
    /// at most the versions of this interval. Zero records it with every batch; each record is a
    /// write (and a transaction marker) the successor's restore reads back.
    public var consumedPositionInterval: Duration = .seconds(5)
    /// Magnitudes beyond these are dead-lettered (or answered 400) naming the field.
    public var inputBounds = InputBounds.standard
    /// An index confidence below this marks exposed accounts `stale`.
    public var minimumConfidence = 0.5
    /// A result is published when health changes or MM/IM move by more than this fraction.
    public var publishThreshold = 0.01
    /// Summaries by default: at 100,000 demo accounts a tick's market-driven republishes cost 2.6×
    /// as much explained (`bench --worker`, docs/scaling.md); the explanation stays one
    /// `GET /v1/accounts/{id}` away, and new versions, health changes, restores and refreshes are
    /// published explained.
    public var marketResults = MarketResults.summary
    /// Every account's result is republished this often (zero disables), one partition at a time
    /// spread over the interval (``RefreshSchedule``).
    public var refreshInterval: Duration = .seconds(60)
    /// Liquidation planner settings.
    public var liquidation = LiquidationSettings()

    public init() {}
}

extension Duration {
    /// The duration in whole milliseconds (the engine's clock unit).
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }
}
