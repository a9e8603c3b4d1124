import Foundation
import Testing
import MarginCore
import MarginEngineCore
import Yams
@testable import MarginWorker

/// The one table of settings (`WorkerConfiguration.settings`) behind YAML, environment and
/// `--set`: every configurable field is in it, and every key in it works all three ways.
@Suite("Worker settings table")
struct WorkerSettingsTableTests {
    /// Leaf keys of a YAML document (`liquidation.target_buffer`), with their scalar text.
    static func leaves(_ node: Node, prefix: String? = nil) -> [String: String] {
        switch node {
        case .mapping(let mapping):
            var result: [String: String] = [:]
            for (key, value) in mapping {
                let name = key.string ?? ""
                result.merge(leaves(value, prefix: prefix.map { "\($0).\(name)" } ?? name)) { a, _ in a }
            }
            return result
        case .scalar(let scalar):
            return prefix.map { [$0: scalar.string] } ?? [:]
        case .sequence:
            return [:]
        }
    }

    /// Stored leaf properties of a value (nested structs flattened; dictionaries, durations and
    /// the APC choice count as one).
    static func storedLeaves(_ value: Any, prefix: String = "") -> [String] {
        let mirror = Mirror(reflecting: value)
        guard mirror.displayStyle == .struct, !(value is Duration), !(value is RiskModelSettings.AntiProcyclicality) else { return [prefix] }
        return mirror.children.flatMap { child in storedLeaves(child.value, prefix: prefix + "." + (child.label ?? "?")) }
    }

    /// The configuration as written out (the start-up log's format) with every optional set
    /// (the bearer token and the calibration's FHS weight).
    static var encoded: [String: String] {
        get throws {
            var configuration = WorkerConfiguration()
            configuration.bearerToken = "token"
            configuration.calibration.model.combination = .weighted(0.5)
            configuration.kafka = ["security.protocol": "SASL_SSL"]
            return leaves(try #require(try Yams.compose(yaml: configuration.yaml())))
        }
    }

    @Test("Every configurable field has exactly one entry; every written key is in the table")
    func tableCoversEveryField() throws {
        let keys = WorkerConfiguration.settings.map(\.key)
        #expect(Set(keys).count == keys.count, "duplicate keys")
        let environmentNames = WorkerConfiguration.settings.map(\.environmentName)
        #expect(Set(environmentNames).count == environmentNames.count, "two settings share an environment variable")
        let encodedKeys = Set(try Self.encoded.keys.filter { !$0.hasPrefix("kafka.") })
        #expect(encodedKeys == Set(keys), "written but not settable: \(encodedKeys.subtracting(keys)); settable but not written: \(Set(keys).subtracting(encodedKeys))")
        // Every stored field except the kafka pass-through map is a setting.
        let fields = Self.storedLeaves(WorkerConfiguration()).filter { $0 != ".kafka" }
        #expect(fields.count == keys.count, "fields \(fields) vs settings \(keys)")
    }

    @Test("Every key takes its own written value from YAML, the environment and --set")
    func everyKeyEveryWay() throws {
        var reference = WorkerConfiguration()
        reference.bearerToken = "token"
        reference.calibration.model.combination = .weighted(0.5)
        let encoded = try Self.encoded
        for setting in WorkerConfiguration.settings {
            let text = try #require(encoded[setting.key], "\(setting.key) not written")
            var viaSet = WorkerConfiguration()
            viaSet.bearerToken = "token"
            viaSet.calibration.model.combination = .weighted(0.5)
            try viaSet.set(setting.key, text)
            #expect(viaSet == reference, "--set \(setting.key)=\(text)")
            var viaEnvironment = WorkerConfiguration()
            viaEnvironment.bearerToken = "token"
            viaEnvironment.calibration.model.combination = .weighted(0.5)
            try viaEnvironment.applyEnvironment([setting.environmentName: text])
            #expect(viaEnvironment == reference, "\(setting.environmentName)=\(text)")
            var viaYAML = try WorkerConfiguration.load(yaml: "\(setting.key): \"\(text)\"")
            viaYAML.bearerToken = "token"
            viaYAML.calibration.model.combination = .weighted(0.5)
            #expect(viaYAML == reference, "YAML \(setting.key)")
        }
        // The written configuration loads back to itself.
        var changed = reference
        changed.liquidation.targetBuffer = 0.37
        changed.topics.deadLetter = "dl"
        changed.engine.maxClockSkew = .milliseconds(1_234)
        changed.transactional = false
        let reloaded = try WorkerConfiguration.load(yaml: changed.yaml())
        #expect(reloaded == changed)
    }

    @Test("Deploy/margin-engine.yaml loads and validates; older topic spellings still load")
    func shippedConfiguration() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("Deploy/margin-engine.yaml"), encoding: .utf8)
        let configuration = try WorkerConfiguration.load(yaml: text)
        try configuration.validate()
        #expect(configuration.engine.maxClockSkew == .seconds(5) && configuration.liquidation.budgetWindow == .seconds(1))
        #expect(configuration.kafka["security.protocol"] == "SASL_SSL")
        let old = try WorkerConfiguration.load(yaml: "topics:\n  deadLetter: dl\n  liquidationState: ls\n")
        #expect(old.topics.deadLetter == "dl" && old.topics.liquidationState == "ls")
        let empty = try WorkerConfiguration.load(yaml: "bearer_token:\nliquidation:\n")
        #expect(empty == WorkerConfiguration())
        #expect(throws: ConfigurationError.self) { _ = try WorkerConfiguration.load(yaml: "brokers: [a, b]") }
    }
}
