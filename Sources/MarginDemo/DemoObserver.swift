import KafkaClient
import MarginSchema
import MarginWorker

/// Reads the workers' outputs with its own consumer, as a downstream service would.
actor DemoObserver {
    var latest: [String: Margin_V1_MarginResult] = [:]
    var instructions: [Margin_V1_LiquidationInstruction] = []
    var resultCount = 0
    /// Results and instructions the reader could not decode (reported by the runner as an error).
    var undecodable: [String] = []
    /// Where the reader reached each partition's end (the next offset).
    var ends: [TopicPartition: Int64] = [:]
    var waiters: [(condition: @Sendable (DemoObserver.State) -> Bool, continuation: CheckedContinuation<Void, Never>)] = []

    struct State: Sendable {
        var latestCount: Int
        var resultCount: Int
        var ends: [TopicPartition: Int64]

        /// The reader has read every partition of `targets` up to that offset.
        func reached(_ targets: [TopicPartition: Int64]) -> Bool {
            targets.allSatisfy { $0.value == 0 || (ends[$0.key] ?? 0) >= $0.value }
        }
    }

    func add(_ event: KafkaConsumerEvent, topics: TopicNames) {
        switch event {
        case .message(let message): add(message, topics: topics)
        case .partitionEnd(let partition, let next): ends[partition] = max(ends[partition] ?? 0, next)
        default: return
        }
        notify()
    }

    private func add(_ message: KafkaMessage, topics: TopicNames) {
        guard let value = message.value else { return }
        let format = SchemaCoding.Format(contentType: message.header("content-type"))
        do {
            if message.topic == topics.results {
                let result = try SchemaCoding.decode(Margin_V1_MarginResult.self, from: value, format: format)
                latest[result.accountID] = result
                resultCount += 1
            } else if message.topic == topics.liquidations {
                instructions.append(try SchemaCoding.decode(Margin_V1_LiquidationInstruction.self, from: value, format: format))
            }
        } catch {
            undecodable.append("\(message.topic)[\(message.partition)]@\(message.offset): \(error)")
        }
    }

    private func notify() {
        let state = State(latestCount: latest.count, resultCount: resultCount, ends: ends)
        var remaining: [(condition: @Sendable (DemoObserver.State) -> Bool, continuation: CheckedContinuation<Void, Never>)] = []
        for waiter in waiters {
            if waiter.condition(state) { waiter.continuation.resume() } else { remaining.append(waiter) }
        }
        waiters = remaining
    }

    func wait(until condition: @escaping @Sendable (State) -> Bool) async {
        if condition(State(latestCount: latest.count, resultCount: resultCount, ends: ends)) { return }
        await withCheckedContinuation { waiters.append((condition, $0)) }
    }
}
