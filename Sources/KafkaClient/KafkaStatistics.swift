import Foundation
import Metrics
import Synchronization

/// Turns librdkafka's statistics JSON into metrics: consumer lag per partition
/// (`kafka_consumer_lag`), and the latest lag readable for health checks.
final class KafkaStatisticsRecorder: Sendable {
    let client: String
    private let lags = Mutex<[TopicPartition: Int64]>([:])
    private let reports = Atomic<Int>(0)

    init(client: String) {
        self.client = client
    }

    /// The latest consumer lag per partition (messages), from the last statistics report.
    var consumerLag: [TopicPartition: Int64] { lags.withLock { $0 } }

    /// Statistics reports read so far.
    var reportCount: Int { reports.load(ordering: .acquiring) }

    func record(json bytes: [UInt8]) {
        guard let root = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let topics = root["topics"] as? [String: Any] else { return }
        var latest: [TopicPartition: Int64] = [:]
        for (topic, value) in topics {
            guard let partitions = (value as? [String: Any])?["partitions"] as? [String: Any] else { continue }
            for (key, entry) in partitions {
                guard let partition = Int32(key), partition >= 0, let fields = entry as? [String: Any],
                      let lag = (fields["consumer_lag"] as? NSNumber)?.int64Value, lag >= 0 else { continue }
                latest[TopicPartition(topic: topic, partition: partition)] = lag
                Gauge(label: "kafka_consumer_lag", dimensions: [("client", client), ("topic", topic), ("partition", key)])
                    .record(lag)
            }
        }
        lags.withLock { $0 = latest }
        reports.add(1, ordering: .releasing)
    }
}
