import MarginCore

/// The results the re-margin pass decided to publish, built in parallel (the explanation, or a
/// summary result's figures and provenance), then queued in order. The adapter encodes them.
extension MarginEngine {
    /// Explains (or, for a summary result, dates) results in parallel, then queues them in order (a
    /// result identical to the committed one is not queued again).
    func queueResults(_ items: [PendingResult], calculator: MarginCalculator, now: Int64) {
        guard !items.isEmpty else { return }
        let books = reference.data.riskBooks
        let markets = reference.data.markets
        let set = ParameterSetIdentity(id: calculator.parameters.id, version: calculator.parameters.version,
                                       valuationAsset: calculator.parameters.valuationAsset)
        let built = Self.parallelMap(items) { item -> Result<(output: ResultOutput, published: PublishedResult), MarginError> in
            do throws(MarginError) {
                if item.summaryOnly {
                    let (asOf, timestamps) = try calculator.provenance(item.exposure, books: books)
                    let id = Self.resultID(item.account, parameterSet: (set.id, set.version), health: item.health,
                                           marketTimestamps: timestamps, summaryOnly: true)
                    var figures = item.summary
                    figures.health = item.health // after the stale guard
                    return .success((.summary(id: id, account: item.account, figures: figures, parameterSet: set, asOfMs: asOf,
                                              marketTimestamps: timestamps),
                                     PublishedResult(resultID: id, accountVersion: item.account.version, health: item.health,
                                                     maintenance: item.summary.maintenanceRequirement, initial: item.summary.initialRequirement)))
                }
                var result = try calculator.explain(item.exposure, books: books, markets: markets)
                if let field = result.firstNonFiniteField { return .failure(.numerical("\(field) is not finite")) }
                result.health = item.health
                let id = Self.resultID(item.account, result: result)
                return .success((.full(id: id, result), PublishedResult(resultID: id, accountVersion: item.account.version, health: item.health,
                                                                       maintenance: result.maintenanceRequirement, initial: result.initialRequirement)))
            } catch {
                return .failure(error)
            }
        }
        // Room for a pass's results at once.
        if let capacity = Self.capacity(toAdd: items.count, count: batch.outputs.count, capacity: batch.outputs.capacity) {
            batch.outputs.reserveCapacity(capacity)
        }
        if let capacity = Self.capacity(toAdd: items.count, count: batch.pendingResults.count, capacity: batch.pendingResults.capacity) {
            batch.pendingResults.reserveCapacity(capacity)
        }
        timing.lap(.results)
        for (item, outcome) in zip(items, built) {
            switch outcome {
            case .failure(let error):
                recordError(item.key, error, now: now)
            case .success(let output):
                if item.held?.resultID == output.published.resultID && !batch.pendingResults.keys.contains(item.key) { continue }
                batch.outputs.append(.result(accountID: item.key.id, output.output))
                batch.pendingResults[item.key] = output.published
            }
        }
        timing.lap(.queue)
    }

    /// The capacity to reserve so that `added` more elements fit a collection holding `count` of
    /// `capacity`, grown at least geometrically so that adding one record at a time stays
    /// amortised; nil when they fit.
    static func capacity(toAdd added: Int, count: Int, capacity: Int) -> Int? {
        count + added > capacity ? max(count + added, 2 * capacity) : nil
    }
}
