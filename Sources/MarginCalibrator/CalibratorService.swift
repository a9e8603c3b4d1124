import Foundation
import KafkaClient
import Logging
import MarginCore
import MarginWorker
import Metrics
import ServiceLifecycle

/// `margin-engine calibrator`: the live calibration role (one active instance per params id).
///
/// Start-up: restores the latest version of its parameter set from the params topic (its
/// provenance carries the APC buffer and phase-in state) and the daily closes from the compacted
/// risk-factor topic on top of the seed history. Then it reads the market topic from each
/// partition's latest record on (a restart publishes the next version for the current market):
/// index snapshots
/// update the intraday EWMA and finalise daily closes; when a recalibration is due it publishes
/// the new parameter version (and any finalised closes) in one transaction with transactional id
/// `calibrator-<params_id>`, so a second instance for the same set fences the first. Workers
/// re-margin on the new version.
public final class CalibratorService: Service, Sendable {
    public let configuration: CalibratorConfiguration
    let seed: [PriceHistory]
    let logger: Logger
    let onPublish: @Sendable (RiskParameters) -> Void

    public init(configuration: CalibratorConfiguration, seed: [PriceHistory], logger: Logger,
                onPublish: @escaping @Sendable (RiskParameters) -> Void = { _ in }) {
        self.configuration = configuration
        self.seed = seed
        self.logger = logger
        self.onPublish = onPublish
    }

    public func run() async throws {
        var core = try CalibratorCore(configuration: configuration, seed: seed)
        let worker = configuration.worker
        for (topic, restore) in [(worker.topics.params, true), (configuration.riskFactorsTopic, false)] {
            let kind = restore ? "calibrator_params" : "calibrator_risk_factors"
            for message in try await PartitionReader.readTopic(configuration: worker, topic: topic, kind: kind, logger: logger) {
                do {
                    if restore { try core.restoreParameters(message) } else { try core.restoreClose(message) }
                } catch {
                    logger.warning("calibrator: skipping an invalid record of \(topic) at offset \(message.offset): \(error)")
                }
            }
        }
        logger.info("calibrator restored", metadata: ["params_id": "\(worker.paramsID)", "version": "\(core.latest?.version ?? 0)"])
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(
            common: worker.kafkaCommon(clientID: "\(worker.instanceID)-calibrator"), transactionalID: "calibrator-\(worker.paramsID)",
            lingerMs: 2, transactionTimeoutMs: 60_000), logger: logger)
        try await producer.initTransactions()
        let market = try KafkaConsumer(configuration: KafkaConsumerConfiguration(
            common: worker.kafkaCommon(clientID: "\(worker.instanceID)-calibrator-market"), fetchWaitMaxMs: 10), logger: logger)
        // From each partition's latest record on: the restored closes and parameter version carry the
        // history; replaying old snapshots would recompute versions for past market times.
        var start: [TopicPartition: KafkaOffset] = [:]
        for partition in try await market.partitions(of: worker.topics.market) {
            let tp = TopicPartition(topic: worker.topics.market, partition: partition)
            let high = try await market.watermarks(for: tp).high
            start[tp] = high > 0 ? KafkaOffset(high - 1) : .beginning
        }
        try market.assign(start)
        await withGracefulShutdownHandler {
            for await event in market.events {
                guard case .message(let message) = event else { continue }
                let output: CalibratorCore.Output
                do {
                    output = try core.observe(message)
                } catch {
                    logger.warning("calibrator: cannot use market record at offset \(message.offset): \(error)")
                    continue
                }
                guard !output.isEmpty else { continue }
                await publish(output, producer: producer, core: core)
            }
        } onGracefulShutdown: {
            Task { await market.close() }
        }
        await market.close()
        do { try await producer.close() } catch { logger.error("calibrator producer closed with undelivered records: \(error)") }
    }

    /// One transaction: the finalised closes and the new parameter version.
    func publish(_ output: CalibratorCore.Output, producer: KafkaProducer, core: CalibratorCore) async {
        let records = output.closes + (output.parameterRecord.map { [$0] } ?? [])
        for attempt in 1...3 {
            do {
                try producer.beginTransaction()
                for record in records { try await producer.enqueue(record) }
                try await producer.commitTransactionRetrying()
                break
            } catch {
                logger.error("calibrator: transaction failed (attempt \(attempt))", metadata: ["error": "\(error)"])
                if error.kind == .fatal { return } // fenced: another calibrator owns this params id
                do { try await producer.abortTransaction() } catch { logger.error("calibrator: abort failed: \(error)") }
            }
        }
        guard let parameters = output.parameters else { return }
        logger.info("calibrator published \(parameters.id) v\(parameters.version)", metadata: [
            "reason": "\(output.reason?.description ?? "")", "summary": "\(parameters.summary)"])
        for underlying in parameters.historicalSimulation?.logReturns.keys.sorted() ?? [] {
            let p = parameters.provenance
            func value(_ key: String) -> Double { Double(p["calibration.\(underlying).\(key)"] ?? "") ?? 0 }
            Gauge(label: "margin_calibrated_price_range", dimensions: [("underlying", underlying)]).record(value("price_range"))
            Gauge(label: "margin_forecast_vol", dimensions: [("underlying", underlying)]).record(value("forecast_vol_annual"))
            Gauge(label: "margin_apc_buffer_used", dimensions: [("underlying", underlying)]).record(value("apc_add_on"))
        }
        onPublish(parameters)
    }
}
