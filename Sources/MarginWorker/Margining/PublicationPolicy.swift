import MarginCore

/// When a freshly computed margin is published (pure).
///
/// Always for a new account version (the clearing pipeline reconciles by version) or a health
/// change; otherwise — market-driven changes — only when MM or IM moved by more than `threshold`
/// (a fraction) since the last committed result.
struct PublicationPolicy: Sendable, Hashable {
    var threshold: Double

    func shouldPublish(_ published: PublishedResult?, version: UInt64, health: HealthState, summary: MarginSummary) -> Bool {
        guard let published else { return true }
        if published.accountVersion != version || published.health != health { return true }
        func moved(_ old: Double, _ new: Double) -> Bool { abs(new - old) > threshold * max(abs(old), 1e-9) }
        return moved(published.maintenance, summary.maintenanceRequirement) || moved(published.initial, summary.initialRequirement)
    }
}
