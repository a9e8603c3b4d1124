import Foundation
import KafkaClient
import MarginCore
import MarginSchema
import MarginWorker
import SwiftProtobuf

/// The calibrator's logic without Kafka: restores from the params and risk-factor topics, turns
/// index snapshots into daily closes and recalibrations, and says what to publish. The service
/// (``CalibratorService``) feeds it records and publishes its ``Output`` in one transaction.
public struct CalibratorCore: Sendable {
    /// What one observation asks the service to publish (in one transaction).
    public struct Output: Sendable {
        public var closes: [ProducerRecord] = []
        public var parameters: RiskParameters?
        public var parameterRecord: ProducerRecord?
        public var reason: LiveCalibration.Reason?

        public var isEmpty: Bool { closes.isEmpty && parameterRecord == nil }
    }

    public let configuration: CalibratorConfiguration
    public private(set) var live: LiveCalibration
    public private(set) var latest: RiskParameters?
    let calibrator: RiskModelCalibrator
    let model: RiskModelSettings
    let base: RiskParameters

    public init(configuration: CalibratorConfiguration, seed: [PriceHistory]) throws(MarginError) {
        self.configuration = configuration
        self.model = configuration.worker.calibration.model
        self.live = try LiveCalibration(settings: configuration.worker.calibration.live, lambda: model.lambda)
        self.calibrator = try RiskModelCalibrator(settings: model)
        self.base = try RiskPresets.load(configuration.worker.calibration.base)
        for history in seed { live.seed(history) }
    }

    /// Restores one record of the params topic (the latest version of this calibrator's set);
    /// other sets are skipped, an invalid record of this set is an error (the caller logs it).
    public mutating func restoreParameters(_ message: KafkaMessage) throws(MarginError) {
        guard let value = message.value, message.key.map({ String(decoding: $0, as: UTF8.self) }) == configuration.worker.paramsID else { return }
        let proto = try SchemaCoding.decode(Margin_V1_RiskParameters.self, from: value,
                                            format: SchemaCoding.Format(contentType: message.header("content-type")))
        let parameters = try RiskParameters(proto: proto)
        if latest.map({ parameters.version >= $0.version }) ?? true { latest = parameters }
    }

    /// Restores one daily close of the risk-factor topic.
    public mutating func restoreClose(_ message: KafkaMessage) throws(MarginError) {
        guard let value = message.value else { return }
        let close = try SchemaCoding.decode(Margin_V1_RiskFactorClose.self, from: value,
                                            format: SchemaCoding.Format(contentType: message.header("content-type")))
        guard let day = UTCDay.parse(close.date) else { throw .invalidInput(field: "risk_factor.date", reason: "`\(close.date)` is not YYYY-MM-DD") }
        _ = try close.close.requirePositiveClose()
        live.record(underlying: close.underlying, day: day, close: close.close)
    }

    /// Observes one market record; returns what to publish (finalised closes, a new parameter version).
    public mutating func observe(_ message: KafkaMessage) throws(MarginError) -> Output {
        var output = Output()
        guard let value = message.value else { return output }
        let snapshot = try SchemaCoding.decode(Margin_V1_MarketSnapshot.self, from: value,
                                               format: SchemaCoding.Format(contentType: message.header("content-type")))
        guard snapshot.indexPrice.isFinite, snapshot.indexPrice > 0, !snapshot.underlying.isEmpty else {
            throw .invalidInput(field: "market.index_price", reason: "must be a positive finite number")
        }
        if let (day, close) = live.observe(underlying: snapshot.underlying, timestampMs: snapshot.timestampMs, price: snapshot.indexPrice) {
            output.closes.append(try closeRecord(underlying: snapshot.underlying, day: day, close: close))
        }
        guard let reason = live.due() else { return output }
        let previous = latest.map { RiskModelCalibrator.State.fromProvenance($0.provenance) } ?? [:]
        let result = try live.calibrate(with: calibrator, previous: previous)
        var parameters = try base.applyingCalibration(result, settings: model, id: configuration.worker.paramsID,
                                                      version: (latest?.version ?? 0) + 1)
        parameters.provenance["calibration.reason"] = reason.description
        output.parameterRecord = try record(topic: configuration.worker.topics.params, key: parameters.id, message: parameters.proto,
                                            id: "params-\(parameters.id)-v\(parameters.version)")
        latest = parameters
        output.parameters = parameters
        output.reason = reason
        return output
    }

    func closeRecord(underlying: String, day: Int, close: Double) throws(MarginError) -> ProducerRecord {
        var p = Margin_V1_RiskFactorClose()
        p.underlying = underlying
        p.date = UTCDay.format(day)
        p.close = close
        let key = "\(underlying):\(p.date)"
        return try record(topic: configuration.riskFactorsTopic, key: key, message: p, id: "riskfactor-\(key)")
    }

    func record(topic: String, key: String, message: some SwiftProtobuf.Message, id: String) throws(MarginError) -> ProducerRecord {
        let format = configuration.worker.outputFormat
        return ProducerRecord(topic: topic, key: Data(key.utf8), value: try SchemaCoding.encode(message, format: format),
                              headers: [KafkaHeader(name: "content-type", string: format.contentType), KafkaHeader(name: "message-id", string: id)])
    }
}

/// Settings of `margin-engine calibrator`: the worker configuration (brokers, topics, kafka
/// properties, output format, the `calibration:` section) and the id of the set it publishes.
public struct CalibratorConfiguration: Sendable {
    public var worker: WorkerConfiguration

    /// `worker.paramsID` is the set the calibrator publishes (`calibrated` unless given).
    public init(worker: WorkerConfiguration = WorkerConfiguration(), paramsID: String = "calibrated") {
        self.worker = worker
        self.worker.paramsID = paramsID
    }

    public var riskFactorsTopic: String { worker.calibration.riskFactorsTopic }
}

extension Double {
    fileprivate func requirePositiveClose() throws(MarginError) -> Double {
        guard isFinite, self > 0 else { throw .invalidInput(field: "risk_factor.close", reason: "must be a positive finite number, got \(self)") }
        return self
    }
}
