import ArgumentParser
import CommandLineSupport
import Foundation
import KafkaClient
import Logging
import MarginWorker
import ServiceLifecycle
import UnixSignals

/// `margin-engine dev-broker`: an embedded Kafka with all topics, until stopped.
struct DevBrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-broker",
        abstract: "Start an embedded Kafka (librdkafka mock cluster) with the worker's topics; print its bootstrap servers."
    )

    @Option(help: "Number of brokers.")
    var brokers: Int = 3

    @Option(help: "Partitions of the accounts topic (and of its co-partitioned outputs).")
    var partitions: Int32 = 6

    @Option(help: "Also write the bootstrap servers to this file.")
    var bootstrapFile: String?

    func run() async throws {
        let logger = Logger(label: "dev-broker")
        let cluster = try EmbeddedKafkaCluster(brokers: brokers, logger: logger)
        try WorkerTopology.create(on: cluster, partitions: partitions)
        print(cluster.bootstrapServers)
        if let bootstrapFile { try cluster.bootstrapServers.write(toFile: bootstrapFile, atomically: true, encoding: .utf8) }
        FileHandleOutput.standardError("embedded Kafka: \(brokers) broker(s), topics: \(TopicNames().all.joined(separator: ", ")); Ctrl-C stops it\n")
        let monitor = try EmbeddedLogStartMonitor(bootstrapServers: cluster.bootstrapServers, topics: TopicNames().all, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: ClusterHolder(cluster: cluster, monitor: monitor))],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Keeps the embedded cluster alive until graceful shutdown, checking every 10 s that it has not
/// dropped records (``EmbeddedLogStartMonitor`` logs loudly when it has).
struct ClusterHolder: Service {
    let cluster: EmbeddedKafkaCluster
    let monitor: EmbeddedLogStartMonitor

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                _ = await monitor.check()
                do { try await Task.sleep(for: .seconds(10)) } catch { break }
            }
        }
        await monitor.close()
        _ = cluster
    }
}
