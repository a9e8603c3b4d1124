import MarginEngineCore

/// Publishes the engine's batches one at a time, outside the engine: takes the pending batch,
/// publishes it (one Kafka transaction with the consumed offsets) and reports the outcome back.
/// Flushes requested while one runs queue behind it, so that a flush returns only once everything
/// pending when it was called is committed or handed back for retry.
public actor OutputFlusher {
    let engine: MarginEngine
    let outputs: OutputPublisher
    private var last: Task<Void, Never>?

    public init(engine: MarginEngine, outputs: OutputPublisher) {
        self.engine = engine
        self.outputs = outputs
    }

    public func flush() async {
        let previous = last
        let engine = self.engine, outputs = self.outputs
        let task = Task {
            await previous?.value
            guard let batch = await engine.takeBatch() else { return }
            let outcome = await outputs.publish(batch)
            await engine.finishBatch(batch, committed: outcome.isCommitted)
        }
        last = task
        await task.value
    }
}
