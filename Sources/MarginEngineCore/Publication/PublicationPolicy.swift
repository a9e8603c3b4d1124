import MarginCore

/// When a freshly computed margin is published, and with how much (pure).
///
/// Always for a new account version (the clearing pipeline reconciles by version) or a health
/// change; otherwise — market-driven changes — only when MM or IM moved by more than `threshold`
/// (a fraction) since the last committed result. With `summarizeMarketMoves` (setting
/// `market_results: summary`) such a market-driven result is a summary (`summary_only`); every
/// other publication is the full explained result.
struct PublicationPolicy: Sendable, Hashable {
    var threshold: Double
    var summarizeMarketMoves = false

    /// What to publish for an account.
    enum Publication: Equatable {
        case nothing
        case full
        case summary
    }

    func shouldPublish(_ published: PublishedResult?, version: UInt64, health: HealthState, summary: MarginSummary) -> Bool {
        publication(published, version: version, health: health, summary: summary, force: false) != .nothing
    }

    /// The decision; `force` (a restore or the periodic refresh) publishes the full result.
    func publication(_ published: PublishedResult?, version: UInt64, health: HealthState, summary: MarginSummary, force: Bool) -> Publication {
        guard let published, !force else { return .full }
        if published.accountVersion != version || published.health != health { return .full }
        func moved(_ old: Double, _ new: Double) -> Bool { abs(new - old) > threshold * max(abs(old), 1e-9) }
        guard moved(published.maintenance, summary.maintenanceRequirement) || moved(published.initial, summary.initialRequirement) else {
            return .nothing
        }
        return summarizeMarketMoves ? .summary : .full
    }
}
