import EngineTestSupport
import Foundation
import KafkaClient
import MarginCalibrator
import MarginCore
import MarginEngineCore
import MarginSchema
import ServiceLifecycle
import TestSupport
import Testing
@testable import MarginWorker

/// The calibrator role on the embedded broker: index snapshots in, daily closes and parameter
/// versions out (transactionally), restored across a restart.
@Suite("Live calibrator on the embedded broker", .serialized, .tags(.broker)) struct CalibratorTests {
    static func snapshot(_ underlying: String, ms: Int64, index: Double) throws -> ProducerRecord {
        var p = Margin_V1_MarketSnapshot()
        p.underlying = underlying
        p.timestampMs = ms
        p.indexPrice = index
        return ProducerRecord(topic: TopicNames().market, key: underlying, value: try SchemaCoding.encode(p, format: .protobuf),
                              headers: [KafkaHeader(name: "content-type", string: "application/x-protobuf")])
    }

    static func readAll(_ cluster: EmbeddedKafkaCluster, topic: String) async throws -> [KafkaMessage] {
        var configuration = WorkerConfiguration()
        configuration.brokers = cluster.bootstrapServers
        configuration.kafka = ["log_level": "2"]
        return try await PartitionReader.read(configuration: configuration, topic: topic, partition: 0, kind: "test",
                                              logger: WorkerHarness.logger).get()
    }

    @Test(.timeLimit(.minutes(2))) func publishesVersionsOnADayChangeAndACrashAndRestoresThem() async throws {
        let harness = try await WorkerHarness(partitions: 1)
        defer { Task { await harness.shutdown() } }
        var worker = harness.configuration(instance: "cal")
        worker.calibration.live.intervalMs = 0
        let configuration = CalibratorConfiguration(worker: worker)
        let seed = try HistoryFilesForTests.btc(through: "2020-05-12")
        let published = AwaitableLog<RiskParameters>()
        func start() -> (ServiceGroup, Task<Void, any Error>) {
            let service = CalibratorService(configuration: configuration, seed: seed, logger: WorkerHarness.logger) { p in
                Task { await published.append(p) }
            }
            let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: WorkerHarness.logger))
            return (group, Task { try await group.run() })
        }
        let day = UTCDay.parse("2020-05-13")!
        let noon = UTCDay.unixMs(ofDay: day) + 12 * 3_600_000
        var (group, task) = start()
        _ = try await harness.producer.send(Self.snapshot("BTC", ms: noon, index: 9_000))
        try await withDeadline(seconds: 30, "calibrator version") { await published.wait { $0.count >= 1 } }
        // The next day closes 2020-05-13 and is a new calibration day.
        _ = try await harness.producer.send(Self.snapshot("BTC", ms: noon + 86_400_000, index: 9_300))
        try await withDeadline(seconds: 30, "calibrator version") { await published.wait { $0.count >= 2 } }
        // A crash: −25 % in a minute.
        var price = 9_300.0
        for second in 1...60 {
            price *= pow(0.75, 1.0 / 60)
            _ = try await harness.producer.send(Self.snapshot("BTC", ms: noon + 86_400_000 + Int64(second) * 1_000, index: price))
        }
        try await withDeadline(seconds: 30, "calibrator version") { await published.wait { $0.count >= 3 } }
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        let versions = await published.elements.sorted { $0.version < $1.version }
        #expect(versions.map(\.version) == Array(1...Int64(versions.count)))
        #expect(versions.last!.provenance["calibration.reason"]!.contains("EWMA vol"))
        let range = { (p: RiskParameters) in Double(p.provenance["calibration.BTC.price_range"]!)! }
        #expect(range(versions.last!) > range(versions[1]))

        // What a read_committed reader sees: every version, and the close of 2020-05-13.
        let params = try await Self.readAll(harness.cluster, topic: harness.topics.params)
        #expect(params.count == versions.count)
        #expect(params.allSatisfy { $0.header("message-id")?.hasPrefix("params-calibrated-v") == true })
        let closes = try await Self.readAll(harness.cluster, topic: configuration.riskFactorsTopic)
        #expect(closes.map { String(decoding: $0.key ?? Data(), as: UTF8.self) } == ["BTC:2020-05-13"])

        // A restart continues the version sequence and the APC state from the topic.
        (group, task) = start()
        _ = try await harness.producer.send(Self.snapshot("BTC", ms: noon + 2 * 86_400_000, index: 8_000))
        try await withDeadline(seconds: 30, "calibrator version") {
            await published.wait { $0.contains { $0.provenance["calibration.to"] == "2020-05-15" } }
        }
        // It resumes after the restored version, for the market it reads now: no version is reused.
        let resumed = await published.elements.dropFirst(versions.count).map(\.version).sorted()
        #expect(resumed.first == Int64(versions.count + 1) && resumed == Array(resumed.first!...resumed.last!))
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

/// A seeded BTC-like daily history (3.5 % daily volatility) ending on `date` at 9,000.
enum HistoryFilesForTests {
    static func btc(through date: String) throws -> [PriceHistory] {
        var closes: [Double] = []
        var generator = SeededGenerator(seed: 9)
        var price = 5_000.0
        let last = UTCDay.parse(date)!
        let first = last - 799
        for _ in first...last {
            price *= exp(0.035 * Double.random(in: -1.7...1.7, using: &generator))
            closes.append(price)
        }
        // Rescaled to end at 9,000, where the test's snapshots start.
        let scale = 9_000 / closes.last!
        return [try PriceHistory(underlying: "BTC", days: Array(first...last), closes: closes.map { $0 * scale })]
    }
}
