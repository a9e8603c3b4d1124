import Foundation
import KafkaClient
import MarginCore
import MarginSchema

extension MarginEngine {
    /// Margins `keys` and queues the results that must be published: the summaries in parallel,
    /// the publication decisions in order, then the explanations and encodings of the published
    /// ones in parallel again. An account that cannot be margined gets a result with health
    /// `error` and the reason.
    func remargin(_ keys: [AccountKey], force: Bool) {
        guard let calculator else { return }
        let books = reference.data.books
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
        let summaries = Self.parallelMap(work) { item -> (AccountKey, Result<MarginSummary, MarginError>) in
            do throws(MarginError) {
                return (item.0, .success(try calculator.summary(item.1, books: books, markets: markets)))
            } catch {
                return (item.0, .failure(error))
            }
        }
        let policy = PublicationPolicy(threshold: configuration.publishThreshold, summarizeMarketMoves: configuration.marketResults == "summary")
        var toPublish: [PendingResult] = []
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
            let serving = accounts[key.partition]?.isServing == true
            let reference = self.reference
            // One in-place visit of the entry: the stale guard, the new figures, the publication rule.
            let decision = accounts.update(key) { entry -> (publication: PublicationPolicy.Publication, health: HealthState, account: Account?, exposure: AccountExposure?) in
                let health = entry.indexedMarkets.contains(where: reference.isStale) ? HealthState.stale : summary.health
                entry.error = nil
                entry.summary = summary
                entry.effectiveHealth = health
                guard serving else { return (.nothing, health, nil, nil) }
                let publication = policy.publication(entry.published, version: entry.account.version, health: health, summary: summary, force: force)
                let liquidatable = health == .liquidatable || health == .bankrupt
                return (publication, health, publication != .nothing || liquidatable ? entry.account : nil, entry.exposure)
            }
            guard serving, let decision, let exposure = decision.exposure else { continue }
            if decision.publication != .nothing, let account = decision.account {
                toPublish.append(PendingResult(key: key, account: account, exposure: exposure, health: decision.health, summary: summary,
                                               summaryOnly: decision.publication == .summary))
            }
            liquidation.observe(key, account: decision.account, health: decision.health, summary: summary)
        }
        queueResults(toPublish, calculator: calculator, now: now)
    }

    /// A result to publish: the account, its figures and whether a summary suffices.
    struct PendingResult: Sendable {
        var key: AccountKey
        var account: Account
        var exposure: AccountExposure
        var health: HealthState
        var summary: MarginSummary
        var summaryOnly: Bool
    }

    /// Explains (or, for a summary result, dates) and encodes results in parallel, then queues
    /// them in order (a result identical to the committed one is not queued again).
    func queueResults(_ items: [PendingResult], calculator: MarginCalculator, now: Int64) {
        guard !items.isEmpty else { return }
        let books = reference.data.books
        let markets = reference.data.markets
        let encoder = self.encoder
        let encoded = Self.parallelMap(items) { item -> Result<(record: ProducerRecord, published: PublishedResult), MarginError> in
            do throws(MarginError) {
                if item.summaryOnly {
                    let (asOf, timestamps) = try calculator.provenance(item.exposure, books: books)
                    let id = Self.resultID(item.account, parameterSet: (calculator.parameters.id, calculator.parameters.version), health: item.health,
                                           marketTimestamps: timestamps, summaryOnly: true)
                    var figures = item.summary
                    figures.health = item.health // after the stale guard
                    let message = figures.summaryProto(resultID: id, account: item.account, parameters: calculator.parameters, asOfMs: asOf,
                                                       marketTimestamps: timestamps)
                    return .success((encoder.result(message, accountID: item.key.id),
                                     PublishedResult(resultID: id, accountVersion: item.account.version, health: item.health,
                                                     maintenance: item.summary.maintenanceRequirement, initial: item.summary.initialRequirement)))
                }
                var result = try calculator.explain(item.exposure, books: books, markets: markets)
                if let field = result.firstNonFiniteField { return .failure(.numerical("\(field) is not finite")) }
                result.health = item.health
                let id = Self.resultID(item.account, result: result)
                let record = encoder.result(result, id: id, accountID: item.key.id)
                return .success((record, PublishedResult(resultID: id, accountVersion: item.account.version, health: item.health,
                                                         maintenance: result.maintenanceRequirement, initial: result.initialRequirement)))
            } catch {
                return .failure(error)
            }
        }
        for (item, outcome) in zip(items, encoded) {
            switch outcome {
            case .failure(let error):
                recordError(item.key, error, now: now)
            case .success(let output):
                let held = accounts[item.key]?.published
                if held?.resultID == output.published.resultID && !batch.pendingResults.keys.contains(item.key) { continue }
                batch.records.append(output.record)
                batch.pendingResults[item.key] = output.published
            }
        }
    }

    /// `transform` over `items` in order, in chunks on every core when there is enough work.
    static func parallelMap<Item: Sendable, Output: Sendable>(_ items: [Item], minimumChunk: Int = 64,
                                                                _ transform: @Sendable (Item) -> Output) -> [Output] {
        let chunkCount = max(1, min(ProcessInfo.processInfo.activeProcessorCount, items.count / minimumChunk))
        if chunkCount == 1 { return items.map(transform) }
        var results = [[Output]](repeating: [], count: chunkCount)
        let chunkSize = (items.count + chunkCount - 1) / chunkCount
        results.withUnsafeMutableBufferPointer { buffer in
            let output = UncheckedBuffer(buffer)
            DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
                let range = (chunk * chunkSize)..<min(items.count, (chunk + 1) * chunkSize)
                output.buffer[chunk] = items[range].map(transform)
            }
        }
        return results.flatMap { $0 }
    }
}

/// A buffer written by disjoint indices from `concurrentPerform`.
struct UncheckedBuffer<T>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<T>
    init(_ buffer: UnsafeMutableBufferPointer<T>) { self.buffer = buffer }
}
