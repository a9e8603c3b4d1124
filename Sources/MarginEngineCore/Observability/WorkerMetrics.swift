import Metrics

/// The worker's metrics (swift-metrics; exported in Prometheus format on `/metrics`).
struct WorkerMetrics: Sendable {
    let instance: String

    func accountsInShard(_ partition: Int32, _ count: Int) {
        Gauge(label: "margin_accounts", dimensions: [("instance", instance), ("shard", String(partition))]).record(count)
    }

    func remarginLatency(nanoseconds: Int64) {
        Metrics.Timer(label: "margin_remargin_latency_seconds", dimensions: [("instance", instance)], preferredDisplayUnit: .seconds)
            .recordNanoseconds(nanoseconds)
    }

    /// A tick's phases (``TickProfile``), one series per phase.
    func tickPhases(_ profile: TickProfile) {
        for (phase, nanoseconds) in profile.nanoseconds {
            Metrics.Timer(label: "margin_tick_phase_seconds", dimensions: [("instance", instance), ("phase", phase.rawValue)],
                          preferredDisplayUnit: .seconds).recordNanoseconds(nanoseconds)
        }
    }

    func resultsPublished(_ count: Int) {
        Counter(label: "margin_results_published_total", dimensions: [("instance", instance)]).increment(by: count)
    }

    func deadLetter(reason: String) {
        Counter(label: "margin_dead_letters_total", dimensions: [("instance", instance), ("reason", reason)]).increment()
    }

    func accountError(reason: String) {
        Counter(label: "margin_account_errors_total", dimensions: [("instance", instance), ("reason", reason)]).increment()
    }

    func marketAge(underlying: String, seconds: Double) {
        Gauge(label: "margin_market_age_seconds", dimensions: [("instance", instance), ("underlying", underlying)]).record(seconds)
    }

    func marketStale(underlying: String, stale: Bool) {
        Gauge(label: "margin_market_stale", dimensions: [("instance", instance), ("underlying", underlying)]).record(stale ? 1 : 0)
    }

    func accountsByHealth(_ counts: [String: Int]) {
        for (health, count) in counts {
            Gauge(label: "margin_accounts_by_health", dimensions: [("instance", instance), ("health", health)]).record(count)
        }
    }

    func liquidationQueue(_ count: Int) {
        Gauge(label: "margin_liquidation_queued", dimensions: [("instance", instance)]).record(count)
    }

    /// Liquidatable accounts without an instruction after a planning window, per reason.
    func liquidationWaiting(reason: String, _ count: Int) {
        Gauge(label: "margin_liquidation_waiting", dimensions: [("instance", instance), ("reason", reason)]).record(count)
    }

    func instructionsPublished(_ count: Int) {
        Counter(label: "margin_liquidation_instructions_total", dimensions: [("instance", instance)]).increment(by: count)
    }

    func cancelsPublished(_ count: Int) {
        Counter(label: "margin_liquidation_cancels_total", dimensions: [("instance", instance)]).increment(by: count)
    }

    /// A restore (`reference`, `accounts` or `liquidation_state`) exceeded `restore_timeout_ms`.
    func restoreTimeout(kind: String) {
        Counter(label: "margin_restore_timeouts_total", dimensions: [("instance", instance), ("kind", kind)]).increment()
    }

    func transactionAborted() {
        Counter(label: "margin_transactions_aborted_total", dimensions: [("instance", instance)]).increment()
    }
}
