import MarginCore

/// Plans liquidations across the accounts of a batch: severity order, anti-cascade budget per
/// instrument and per underlying and window, in-flight tracking (one outstanding instruction per
/// account), re-plans on fills and on expiry, cancels on recovery; never on stale markets.
///
/// Budget per window: an instrument may be instructed `max(budget_fraction × depth on the closing
/// side within the price band, budgetVolumeFraction × 24 h volume × window / 24 h)` contracts; an
/// underlying `budget_fraction × Σ` over its futures and perpetuals of the mean of both sides' depth
/// within the band, plus the same volume share, in delta notional (valuation units: option legs
/// count `|Δ| × notional`). An instrument with neither depth nor volume may use only
/// `no_book_cap` contracts (default 0: not liquidated). Every budget is this instance's share
/// (``budgetShare``: its partitions of the accounts topic over all of them), so N replicas together
/// stay within the configured budget. A liquidatable account not instructed in a window is
/// recorded in ``waiting`` with its reason.
package struct LiquidationCoordinator: Sendable {
    let settings: LiquidationSettings
    package private(set) var outstanding: [String: OutstandingInstruction] = [:]
    private var candidates: [AccountKey: (account: Account, summary: MarginSummary)] = [:]
    private var cancels: Set<AccountKey> = []
    private var budgetWindow: Int64 = -1
    private var budgetUsed: [String: Double] = [:]
    /// Delta notional instructed per underlying this window, and each underlying's budget.
    private var underlyingUsed: [String: Double] = [:]
    private var underlyingBudget: [String: Double?] = [:]
    /// This instance's share of the global anti-cascade budget: the fraction of the accounts
    /// topic's partitions it owns (N replicas together instruct at most the configured budget).
    var budgetShare = 1.0
    /// What planning could not use this window (an instrument's liquidity terms, an account's plan),
    /// reported once when it first fails (the engine logs it): never dropped silently.
    package private(set) var newFailures: [String] = []
    private var previousFailures: Set<String> = []
    /// Liquidatable accounts not instructed in the last window, by id, with the reason
    /// (``WaitingReason``).
    package private(set) var waiting: [AccountKey: WaitingReason] = [:]

    var queuedCount: Int { waiting.count }
    var queuedAccounts: Set<String> { Set(waiting.keys.map(\.id)) }

    package init(settings: LiquidationSettings) {
        self.settings = settings
    }

    var outstandingCount: Int { outstanding.values.filter(\.isLive).count }

    package var policy: LiquidationPolicy {
        LiquidationPolicy(targetBuffer: settings.targetBuffer, closeOutEquity: settings.closeOutEquity, depthFraction: settings.depthFraction,
                          penaltyRate: settings.penaltyRate, impactCoefficient: settings.impactCoefficient)
    }

    /// Called with every fresh margin of an account (`account` is needed, and given, only when it
    /// is liquidatable or bankrupt).
    package mutating func observe(_ key: AccountKey, account: Account?, health: HealthState, summary: MarginSummary) {
        switch health {
        case .liquidatable, .bankrupt:
            assert(account != nil, "a liquidatable account is observed with its state")
            candidates[key] = account.map { ($0, summary) }
            cancels.remove(key)
        case .healthy, .belowInitial:
            candidates[key] = nil
            if outstanding[key.id]?.isLive == true { cancels.insert(key) }
        case .stale, .error:
            candidates[key] = nil // never act on stale prices or on an account that cannot be margined
        }
    }

    mutating func release(partition: Int32) {
        waiting = waiting.filter { $0.key.partition != partition }
        outstanding = outstanding.filter { $0.value.partition != partition }
        candidates = candidates.filter { $0.key.partition != partition }
        cancels = cancels.filter { $0.partition != partition }
    }

    /// Restores the in-flight state of a partition from its liquidation-state records (decoded
    /// at the edge, oldest first; nil: a tombstone).
    mutating func restore(_ states: [(accountID: String, state: OutstandingInstruction?)]) {
        for (accountID, state) in states { outstanding[accountID] = state }
    }

    package mutating func committed(_ commits: [LiquidationCommit]) {
        for commit in commits { outstanding[commit.accountID] = commit.state }
    }

    /// Plans this window's instructions and cancels, in the order they must be published.
    package mutating func plan(now: Int64, context: LiquidationContext) -> [LiquidationAction] {
        var actions: [LiquidationAction] = []
        let calculator = context.calculator, reference = context.reference
        // Cancels for accounts that recovered.
        for key in cancels.sorted(by: { $0.id < $1.id }) {
            guard let state = outstanding[key.id], state.isLive else { continue }
            actions.append(cancel(state, parameterSetVersion: calculator.parameters.version))
        }
        cancels = []
        let window = now / max(1, settings.budgetWindow.milliseconds)
        if window != budgetWindow {
            budgetWindow = window
            budgetUsed = [:]
            underlyingUsed = [:]
            underlyingBudget = [:]
        }
        let policy = self.policy
        let valuation = calculator.valuationPrice(in: reference.markets)
        let windowShare = Double(max(1, settings.budgetWindow.milliseconds)) / 86_400_000
        var failures: Set<String> = []
        func terms(_ instrument: Instrument) -> InstrumentLiquidity? {
            guard instrument.kind != .spot, let market = reference.markets[instrument.underlying] else { return nil }
            let model = calculator.parameters.riskUnit(for: instrument.underlying)?.liquidityCost ?? policy.costModel
            do {
                return try InstrumentLiquidity(instrument: instrument, market: market, riskBook: reference.riskBooks[instrument.underlying],
                                               valuationPrice: valuation, nowMs: market.timestampMs, fallbackVolatility: model.fallbackVolatility)
            } catch {
                failures.insert("liquidity terms of \(instrument.name): \(error)")
                return nil
            }
        }
        let planner = LiquidationPlanner(calculator: calculator, policy: policy)
        // Severity order: shortfall relative to MM, then larger requirement, then id.
        let ordered = candidates.sorted { lhs, rhs in
            let a = lhs.value.summary, b = rhs.value.summary
            let sa = (a.maintenanceRequirement - a.equity) / max(a.maintenanceRequirement, 1e-12)
            let sb = (b.maintenanceRequirement - b.equity) / max(b.maintenanceRequirement, 1e-12)
            if sa != sb { return sa > sb }
            if a.maintenanceRequirement != b.maintenanceRequirement { return a.maintenanceRequirement > b.maintenanceRequirement }
            return lhs.key.id < rhs.key.id
        }
        var waiting: [AccountKey: WaitingReason] = [:]
        for (key, candidate) in ordered {
            guard context.isServing(key.partition) else { continue }
            let account = candidate.account
            if account.positions.contains(where: { position in
                reference.catalog[position.instrument].map { context.isStale($0.underlying) } ?? false
            }) { continue }
            var round: UInt32 = 0
            var supersedes = ""
            if let state = outstanding[key.id] {
                if state.accountVersion == account.version {
                    // Outstanding: wait for fills or expiry; after a cancel or the deadline, the next round.
                    guard !state.isLive || now >= state.deadlineMs else { continue }
                    round = state.round + 1
                }
                if state.isLive { supersedes = state.id }
            }
            // Remaining budget per instrument and per underlying this window.
            var caps: [String: Double] = [:]
            var underlyingCaps: [String: Double] = [:]
            var deltaNotional: [String: Double] = [:]
            var withoutDepth: [String] = []
            for position in account.positions where position.quantity != 0 {
                guard let instrument = reference.catalog[position.instrument], let contract = terms(instrument) else { continue }
                deltaNotional[instrument.name] = contract.deltaNotional
                let depth = contract.depth(.closing(quantity: position.quantity), band: policy.priceBand)
                let flow = policy.budgetVolumeFraction * (contract.book?.volume24h ?? 0) * windowShare
                let allowed = depth > 0 || flow > 0 ? max(settings.budgetFraction * depth, flow) : settings.noBookCap
                if allowed <= 0 { withoutDepth.append(instrument.name) }
                caps[instrument.name] = max(0, allowed * budgetShare - budgetUsed[instrument.name, default: 0])
                if underlyingBudget[instrument.underlying] == nil {
                    underlyingBudget[instrument.underlying] = budget(of: instrument.underlying, reference: reference, terms: terms,
                                                                     windowShare: windowShare)
                }
                if let budget = underlyingBudget[instrument.underlying] ?? nil {
                    underlyingCaps[instrument.underlying] = max(0, budget * budgetShare - underlyingUsed[instrument.underlying, default: 0])
                }
            }
            let planned: LiquidationPlan?
            do {
                planned = try planner.plan(account: account, catalog: reference.catalog, books: reference.riskBooks,
                                           markets: reference.markets, caps: caps, underlyingCaps: underlyingCaps)
            } catch {
                failures.insert("plan of account \(key.id): \(error)")
                waiting[key] = .planError("\(error)")
                continue
            }
            guard let plan = planned else { continue }
            // Bankrupt with nothing left to close: one `bankrupt` instruction without legs carries the
            // deficit to the insurance fund; it stays outstanding until the account changes.
            let nothingToClose = plan.reason == .bankrupt && !account.positions.contains { $0.quantity != 0 }
            if plan.legs.isEmpty && !nothingToClose {
                // Nothing may be instructed this window: waits for the next, in severity order. A live
                // instruction for an older version (or past its deadline) no longer fits the account:
                // it is cancelled rather than left to look outstanding.
                waiting[key] = withoutDepth.isEmpty ? .budget : .noDepth(withoutDepth.sorted())
                if let state = outstanding[key.id], state.isLive {
                    actions.append(cancel(state, parameterSetVersion: calculator.parameters.version))
                }
                continue
            }
            for leg in plan.legs {
                budgetUsed[leg.instrument, default: 0] += leg.quantity
                if let underlying = reference.catalog[leg.instrument]?.underlying {
                    underlyingUsed[underlying, default: 0] += leg.quantity * (deltaNotional[leg.instrument] ?? 0)
                }
            }
            let id = DeterministicID.make("liq", [key.id, String(account.version), String(round)])
            let deadline = nothingToClose ? Int64.max : now + settings.deadline.milliseconds
            let state = OutstandingInstruction(id: id, accountID: key.id, accountVersion: account.version, round: round,
                                               deadlineMs: deadline, partition: key.partition)
            actions.append(.instruct(plan: plan, state: state, parameterSetVersion: calculator.parameters.version, supersedes: supersedes,
                                     publishedDeadlineMs: nothingToClose ? 0 : deadline)) // 0: nothing to execute
            candidates[key] = nil
        }
        self.waiting = waiting
        newFailures = failures.subtracting(previousFailures).sorted()
        previousFailures = failures
        return actions
    }

    /// The cancel of a live instruction (message id `<id>-cancel`, state `cancelled: true`, keeping
    /// its round so the next plan takes the next one); the local state follows at once (a failed
    /// transaction is retried with the same records).
    private mutating func cancel(_ state: OutstandingInstruction, parameterSetVersion: Int64) -> LiquidationAction {
        var cancelled = state
        cancelled.cancelled = true
        outstanding[state.accountID] = cancelled
        return .cancel(state: cancelled, parameterSetVersion: parameterSetVersion)
    }

    /// An underlying's delta-notional budget per window from its futures' and perpetuals' books:
    /// `budget_fraction × Σ mean(bid, ask depth within the band) × notional + budgetVolumeFraction ×
    /// Σ volume × notional × window / 24 h`; nil when it has no such book.
    func budget(of underlying: String, reference: ReferenceData, terms: (Instrument) -> InstrumentLiquidity?,
                windowShare: Double) -> Double? {
        guard let market = reference.markets[underlying] else { return nil }
        var total = 0.0
        var found = false
        for name in market.orderBooks.keys.sorted() {
            guard let instrument = reference.catalog[name], instrument.kind.isDeltaOne, let contract = terms(instrument) else { continue }
            let depth = 0.5 * (contract.depth(.bid, band: policy.priceBand) + contract.depth(.ask, band: policy.priceBand))
            let flow = policy.budgetVolumeFraction * (contract.book?.volume24h ?? 0) * windowShare
            guard depth > 0 || flow > 0 else { continue }
            found = true
            total += (settings.budgetFraction * depth + flow) * contract.notional
        }
        return found ? total : nil
    }
}
