import KafkaClient
import MarginCore
import MarginSchema

/// The results the re-margin pass decided to publish, built and encoded (the explanation, or a
/// summary result's figures and provenance) in parallel, then queued in order.
extension MarginEngine {
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
                let held = accounts.read(item.key) { $0.published } ?? nil
                if held?.resultID == output.published.resultID && !batch.pendingResults.keys.contains(item.key) { continue }
                batch.records.append(output.record)
                batch.pendingResults[item.key] = output.published
            }
        }
    }
}
