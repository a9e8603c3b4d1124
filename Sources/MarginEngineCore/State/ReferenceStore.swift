import MarginCore

/// The reference side of the engine's state: the data read whole (``ReferenceData``), the active
/// parameter set, which risk books must be rebuilt at the next tick, when each underlying's books
/// were last built, and which markets are stale. Pure bookkeeping: its calls return what changed
/// and the engine logs and counts it.
struct ReferenceStore: Sendable {
    private(set) var data = ReferenceData()
    /// The parameter set the worker margins with (`params_id`).
    let parametersID: String
    /// The shipped preset of that id, used until the params topic carries the set.
    let preset: RiskParameters?
    /// Market timestamp each underlying's books were last rebuilt for.
    private(set) var processedMarketMs: [String: Int64] = [:]
    /// Stale underlyings and the timestamp of the snapshot they went stale at.
    private(set) var stale: [String: Int64] = [:]
    private var pending = BookRebuild.nothing

    /// The risk books the next tick must rebuild.
    enum BookRebuild: Equatable {
        case nothing
        /// Every underlying's (instruments or parameters changed: every account is recompiled).
        case everything
        case underlyings(Set<String>)
    }

    init(parametersID: String, preset: RiskParameters?) {
        self.parametersID = parametersID
        self.preset = preset
    }

    var parameters: RiskParameters? { data.parameterSets[parametersID] ?? preset }
    var calculator: MarginCalculator? { parameters.map { MarginCalculator(parameters: $0) } }

    /// Applies a decoded record (see ``ReferenceData/apply(_:nowMs:maxClockSkewMs:)``) and notes the
    /// books it makes stale.
    mutating func apply(_ input: ReferenceInput, nowMs: Int64, maxClockSkewMs: Int64) throws(MarginError) {
        switch try data.apply(input, nowMs: nowMs, maxClockSkewMs: maxClockSkewMs) {
        case .instruments, .parameters: pending = .everything
        case .market(let underlying):
            switch pending {
            case .nothing: pending = .underlyings([underlying])
            case .underlyings(var set):
                set.insert(underlying)
                pending = .underlyings(set)
            case .everything: break
            }
        case .none: break
        }
    }

    /// Asks for every book to be rebuilt (the reference restore completed).
    mutating func requestFullRebuild() { pending = .everything }

    /// The pending rebuild, cleared.
    mutating func takeRebuild() -> BookRebuild {
        defer { pending = .nothing }
        return pending
    }

    /// Rebuilds the risk books of `underlyings` for the active parameters (reusing the previous
    /// book's precompute); an underlying without market or risk unit has none. Returns the
    /// underlyings whose book could not be built, with the error. Each book is built on `parallelism`.
    mutating func rebuildBooks(_ underlyings: some Sequence<String>, parallelism: Parallelism = .serial) -> [(underlying: String, error: MarginError)] {
        guard let calculator else { return [] }
        var failures: [(underlying: String, error: MarginError)] = []
        for underlying in underlyings {
            guard let market = data.markets[underlying], calculator.parameters.riskUnit(for: underlying) != nil else {
                data.riskBooks[underlying] = nil
                continue
            }
            processedMarketMs[underlying] = market.timestampMs
            do {
                data.riskBooks[underlying] = try calculator.riskBook(for: underlying, catalog: data.catalog, markets: data.markets,
                                                                asOfMs: market.timestampMs, reusing: data.riskBooks[underlying],
                                                                parallelism: parallelism)
            } catch {
                failures.append((underlying, error))
                data.riskBooks[underlying] = nil
            }
        }
        return failures
    }

    /// One underlying's staleness changing: stale since `sinceMs`, or fresh again.
    struct StalenessChange: Equatable {
        var underlying: String
        var stale: Bool
        var sinceMs: Int64
        var ageMs: Int64
        var confidence: Double
    }

    /// Recomputes which underlyings are stale (older than `staleAfterMs`, or an index confidence
    /// below `minimumConfidence`); returns the changes, and every market's age for the gauges.
    mutating func updateStaleness(now: Int64, staleAfterMs: Int64, minimumConfidence: Double)
        -> (changes: [StalenessChange], ages: [(underlying: String, ageMs: Int64, stale: Bool)]) {
        var changes: [StalenessChange] = []
        var ages: [(underlying: String, ageMs: Int64, stale: Bool)] = []
        for (underlying, market) in data.markets.underlyings {
            let age = now - market.timestampMs
            let isStale = age > staleAfterMs || market.indexConfidence < minimumConfidence
            ages.append((underlying, age, isStale))
            guard isStale != (stale[underlying] != nil) else { continue }
            stale[underlying] = isStale ? market.timestampMs : nil
            changes.append(StalenessChange(underlying: underlying, stale: isStale, sinceMs: market.timestampMs, ageMs: age,
                                           confidence: market.indexConfidence))
        }
        return (changes, ages)
    }

    func isStale(_ underlying: String) -> Bool { stale[underlying] != nil }

    /// The markets an account's valuation reads (``Account/marketsRead(catalog:valuationAsset:)``):
    /// a tick of any of them re-margins it, and any of them stale makes it stale.
    func marketsRead(by account: Account) -> Set<String> {
        account.marketsRead(catalog: data.catalog, valuationAsset: parameters?.valuationAsset ?? "")
    }

    /// Compiles an account against the current catalog and books (``AccountExposure``), or records
    /// why it cannot be margined yet.
    func compile(_ entry: inout AccountEntry) {
        guard let parameters else {
            entry.exposure = nil
            entry.blockedReason = "no parameter set \(parametersID)"
            entry.error = .missingParameters(underlying: parametersID)
            return
        }
        do {
            entry.exposure = try AccountExposure(account: entry.account, catalog: data.catalog, books: data.riskBooks, parameters: parameters)
            entry.blockedReason = nil
            entry.error = nil
        } catch {
            entry.exposure = nil
            entry.blockedReason = error.description
            entry.error = error
        }
    }
}
