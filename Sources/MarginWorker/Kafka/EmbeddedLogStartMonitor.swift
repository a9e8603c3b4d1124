import KafkaClient
import Logging
import Metrics

/// Watches the embedded broker (librdkafka's mock cluster) for the one way it loses data silently:
/// it keeps about 5 MiB per partition and moves the log start past older records. `dev-broker`
/// and the demo run it and say so loudly — an error log per partition and the gauge
/// `margin_embedded_log_start_offset{topic,partition}` — so that a long run or a big demo is never
/// mistaken for a complete one. (On a real broker a log start above 0 is normal: retention and
/// compaction; this monitor is for the embedded one only.)
public actor EmbeddedLogStartMonitor {
    let consumer: KafkaConsumer
    let topics: [String]
    let logger: Logger
    private var reported: [TopicPartition: Int64] = [:]

    public init(bootstrapServers: String, topics: [String], logger: Logger) throws(KafkaError) {
        self.consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(
            common: KafkaConfiguration(bootstrapServers: bootstrapServers, clientID: "log-start-monitor", properties: ["log_level": "2"])),
            logger: logger)
        self.topics = topics
        self.logger = logger
    }

    /// The partitions whose log start has moved (records dropped), with the first offset still kept.
    public func check() async -> [TopicPartition: Int64] {
        var moved: [TopicPartition: Int64] = [:]
        for topic in topics {
            let partitions: [Int32]
            do { partitions = try await consumer.partitions(of: topic) } catch {
                logger.warning("log-start monitor: cannot list the partitions of \(topic): \(error)")
                continue
            }
            for partition in partitions {
                let tp = TopicPartition(topic: topic, partition: partition)
                let low: Int64
                do { low = try await consumer.watermarks(for: tp).low } catch {
                    logger.warning("log-start monitor: cannot read the watermarks of \(tp): \(error)")
                    continue
                }
                guard low > 0 else { continue }
                moved[tp] = low
                Gauge(label: "margin_embedded_log_start_offset", dimensions: [("topic", topic), ("partition", String(partition))]).record(low)
                if reported[tp] != low {
                    reported[tp] = low
                    let text = "the embedded broker dropped records: the log of \(topic)[\(partition)] now starts at offset \(low) "
                        + "(librdkafka's mock cluster keeps about 5 MiB per partition); a restore from it is incomplete. "
                        + "Use more partitions, a shorter run, or a real broker."
                    logger.error("\(text)")
                }
            }
        }
        return moved
    }

    public func close() async { await consumer.close() }
}
