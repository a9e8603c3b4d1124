import KafkaClient
import MarginEngineCore

extension MarginWorkerService {
    /// Hands the reference consumer's events to the engine, decoded here (off the engine's thread),
    /// in batches of what the consumer has buffered (at most ``WorkerConfiguration/inputBatchLimit``).
    func forwardReference(_ reference: KafkaConsumer, decoder: InputDecoder) async {
        for await batch in reference.events.batches(maxCount: configuration.inputBatchLimit) {
            let events = batch.compactMap(decoder.referenceEvent)
            if !events.isEmpty { await engine.handleReference(events) }
        }
    }

    /// Hands the accounts consumer's events to the engine in order: records, partition ends and
    /// errors in batches of what the consumer has buffered; a revocation first stops the revoked
    /// shards and commits their outputs, an assignment first reads what the shards restore from
    /// (so that the engine never waits for Kafka).
    func forwardAccounts(_ accounts: KafkaConsumer, decoder: InputDecoder, assignmentReader: ShardAssignmentReader) async {
        for await batch in accounts.events.batches(maxCount: configuration.inputBatchLimit) {
            var pending: [AccountsEvent] = []
            func handOver() async {
                if !pending.isEmpty { await engine.handleAccounts(pending) }
                pending.removeAll(keepingCapacity: true)
            }
            for event in batch {
                switch event {
                case .partitionsRevoked(let partitions):
                    await handOver()
                    // The revoked shards stop producing, their last outputs and offsets are
                    // committed, then their state is released.
                    await engine.prepareRevocation(partitions.map(\.partition))
                    await flusher.flush()
                    if let input = decoder.accountsEvent(event) { await engine.handleAccounts(input) }
                case .partitionsAssigned(let partitions):
                    await handOver()
                    let assignments = await assignmentReader.read(partitions) { partition async throws(KafkaError) -> Int64 in
                        try await accounts.watermarks(for: partition).high
                    }
                    await engine.assignShards(assignments)
                default:
                    if let input = decoder.accountsEvent(event) { pending.append(input) }
                }
            }
            await handOver()
        }
    }
}
