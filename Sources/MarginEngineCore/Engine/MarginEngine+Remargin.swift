import MarginCore

extension MarginEngine {
    /// Margins `keys` and queues the results that must be published: the summaries in parallel,
    /// the publication decisions in order, then the explanations and encodings of the published
    /// ones in parallel again. An account that cannot be margined gets a result with health
    /// `error` and the reason. `force` publishes every account's result, `refreshed` those of
    /// these partitions (the periodic refresh), whether or not they changed.
    func remargin(_ keys: [AccountKey], force: Bool, refreshing refreshed: Set<Int32> = []) {
        guard let calculator else { return }
        let books = reference.data.riskBooks
        let markets = reference.data.markets
        var work: [(AccountKey, AccountExposure)] = []
        let now = clock()
        work.reserveCapacity(keys.count)
        for key in keys {
            guard let (exposure, error) = accounts.read(key, { ($0.exposure, $0.error) }) else { continue }
            if let exposure {
                work.append((key, exposure))
            } else if let error {
                recordError(key, error, now: now)
            }
        }
        timing.lap(.gather)
        let summaries = Self.parallelMap(work) { item -> (AccountKey, Result<MarginSummary, MarginError>) in
            do throws(MarginError) {
                return (item.0, .success(try calculator.summary(item.1, books: books, markets: markets)))
            } catch {
                return (item.0, .failure(error))
            }
        }
        timing.lap(.summaries)
        let policy = PublicationPolicy(threshold: settings.publishThreshold, summarizeMarketMoves: settings.marketResults == .summary)
        var toPublish: [PendingResult] = []
        // Read once per pass, not per account (each would copy the store or a shard).
        let stale = reference.stale
        let serving = Set(accounts.shards.values.filter(\.isServing).map(\.partition))
        for (key, outcome) in summaries {
            let summary: MarginSummary
            switch outcome {
            case .success(let computed) where computed.isFinite:
                summary = computed
            case .success:
                let error = MarginError.numerical("the margin of account \(key.id) is not finite")
                accounts.update(key) { $0.error = error }
                recordError(key, error, now: now)
                continue
            case .failure(let error):
                accounts.update(key) { $0.error = error }
                recordError(key, error, now: now)
                continue
            }
            let serving = serving.contains(key.partition)
            let held = serving ? published[key] : nil
            // One in-place visit of the entry: the stale guard, the new figures, the publication rule.
            let decision = accounts.update(key) { entry -> (publication: PublicationPolicy.Publication, health: HealthState, account: Account?, exposure: AccountExposure?) in
                let health = entry.indexedMarkets.contains { stale[$0] != nil } ? HealthState.stale : summary.health
                entry.error = nil
                entry.summary = summary
                entry.effectiveHealth = health
                guard serving else { return (.nothing, health, nil, nil) }
                let publication = policy.publication(held, version: entry.account.version, health: health, summary: summary,
                                                     force: force || refreshed.contains(key.partition))
                let liquidatable = health == .liquidatable || health == .bankrupt
                return (publication, health, publication != .nothing || liquidatable ? entry.account : nil, entry.exposure)
            }
            guard serving, let decision, let exposure = decision.exposure else { continue }
            if decision.publication != .nothing, let account = decision.account {
                toPublish.append(PendingResult(key: key, account: account, exposure: exposure, held: held, health: decision.health, summary: summary,
                                               summaryOnly: decision.publication == .summary))
            }
            liquidation.observe(key, account: decision.account, health: decision.health, summary: summary)
        }
        timing.lap(.decisions)
        queueResults(toPublish, calculator: calculator, now: now)
    }

    /// A result to publish: the account, its figures and whether a summary suffices.
    struct PendingResult: Sendable {
        var key: AccountKey
        var account: Account
        var exposure: AccountExposure
        /// What was last published for the account when the result was decided.
        var held: PublishedResult?
        var health: HealthState
        var summary: MarginSummary
        var summaryOnly: Bool
    }
}
