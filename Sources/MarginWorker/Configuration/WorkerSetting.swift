import Foundation
import MarginEngineCore

/// One entry of ``WorkerConfiguration/settings``: a YAML key and how to set it from text (a YAML
/// scalar, an environment variable or a `--set` value).
public struct WorkerSetting: Sendable {
    /// The YAML key, dotted for sections (`liquidation.target_buffer`).
    public let key: String
    /// Older spellings still accepted in YAML and `--set`.
    public let aliases: [String]
    /// Parses `value` and stores it; throws a ``ConfigurationError`` naming the key.
    let assign: @Sendable (inout WorkerConfiguration, String) throws(ConfigurationError) -> Void
    /// Back to the default (a YAML null).
    let reset: @Sendable (inout WorkerConfiguration) -> Void
    /// The current value as text (nil for an unset optional).
    let render: @Sendable (WorkerConfiguration) -> String?

    /// `MARGIN_ENGINE_` and the key upper-cased, dots as underscores.
    public var environmentName: String {
        "MARGIN_ENGINE_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// A setting parsed from text by `parse` (nil: refused, naming `expected`) and rendered back by `render`.
    static func parsed<T>(_ key: String, _ path: any WritableKeyPath<WorkerConfiguration, T> & Sendable, aliases: [String] = [],
                          expected: String, _ parse: @escaping @Sendable (String) -> T?,
                          render: @escaping @Sendable (T) -> String? = { Self.text(of: $0) }) -> WorkerSetting {
        WorkerSetting(key: key, aliases: aliases, assign: { (configuration: inout WorkerConfiguration, text: String) throws(ConfigurationError) in
            guard let value = parse(text.trimmingCharacters(in: .whitespaces)) else {
                throw ConfigurationError(key: key, reason: "expected \(expected), got '\(text)'")
            }
            configuration[keyPath: path] = value
        }, reset: { configuration in
            configuration[keyPath: path] = WorkerConfiguration()[keyPath: path]
        }, render: { configuration in render(configuration[keyPath: path]) })
    }

    /// Text of a setting's value; nil for an absent optional.
    static func text(of value: Any?) -> String? {
        guard let value else { return nil }
        if let optional = value as? any OptionalProtocol { return optional.wrappedText }
        return "\(value)"
    }

    static func text(_ key: String, _ path: any WritableKeyPath<WorkerConfiguration, String> & Sendable, aliases: [String] = []) -> WorkerSetting {
        parsed(key, path, aliases: aliases, expected: "text", { $0 })
    }

    static func optionalText(_ key: String, _ path: any WritableKeyPath<WorkerConfiguration, String?> & Sendable) -> WorkerSetting {
        parsed(key, path, expected: "text", { Optional($0) })
    }

    static func integer<T: FixedWidthInteger & SendableMetatype>(_ key: String, _ path: any WritableKeyPath<WorkerConfiguration, T> & Sendable) -> WorkerSetting {
        parsed(key, path, expected: "an integer", { T($0, radix: 10) })
    }

    static func number(_ key: String, _ path: any WritableKeyPath<WorkerConfiguration, Double> & Sendable) -> WorkerSetting {
        parsed(key, path, expected: "a number", { Double($0).flatMap { $0.isFinite ? $0 : nil } })
    }

    static func optionalNumber(_ key: String, _ path: any WritableKeyPath<WorkerConfiguration, Double?> & Sendable) -> WorkerSetting {
        parsed(key, path, expected: "a number", { text -> Double?? in Double(text).flatMap { $0.isFinite ? .some($0) : nil } })
    }

    /// A duration given in whole milliseconds (`stale_after_ms: 10000`), kept as a `Duration`.
    static func milliseconds(_ key: String, _ path: any WritableKeyPath<WorkerConfiguration, Duration> & Sendable) -> WorkerSetting {
        parsed(key, path, expected: "a whole number of milliseconds", { Int64($0, radix: 10).map(Duration.milliseconds) },
               render: { String($0.milliseconds) })
    }

    /// One of an enum's raw values (`market_results: summary`), parsed once at load.
    static func choice<T: RawRepresentable & CaseIterable & Sendable>(_ key: String, _ path: any WritableKeyPath<WorkerConfiguration, T> & Sendable)
        -> WorkerSetting where T.RawValue == String {
        parsed(key, path, expected: "one of \(T.allCases.map(\.rawValue).joined(separator: ", "))", { T(rawValue: $0) },
               render: { $0.rawValue })
    }

    static func flag(_ key: String, _ path: any WritableKeyPath<WorkerConfiguration, Bool> & Sendable) -> WorkerSetting {
        parsed(key, path, expected: "true or false", { text in
            switch text.lowercased() {
            case "true", "yes", "on": true
            case "false", "no", "off": false
            default: nil
            }
        })
    }
}

/// Lets ``WorkerSetting`` render optional settings (nil: left out of the description).
protocol OptionalProtocol {
    var wrappedText: String? { get }
}

extension Optional: OptionalProtocol {
    var wrappedText: String? { map { "\($0)" } }
}
