import Foundation

/// A configuration setting that cannot be used.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var key: String
    public var reason: String

    public init(key: String, reason: String) {
        self.key = key
        self.reason = reason
    }

    public var description: String { "configuration \(key): \(reason)" }
}

/// One entry of ``WorkerConfiguration/settings``: a YAML key and how to set it from text (a YAML
/// scalar, an environment variable or a `--set` value).
public struct WorkerSetting: Sendable {
    /// The YAML key, dotted for sections (`liquidation.target_buffer`).
    public let key: String
    /// Older spellings still accepted in YAML and `--set`.
    public let aliases: [String]
    /// Parses `value` and stores it; throws a ``ConfigurationError`` naming the key.
    let assign: @Sendable (inout WorkerConfiguration, String) throws -> Void
    /// Back to the default (a YAML null).
    let reset: @Sendable (inout WorkerConfiguration) throws -> Void
    /// The current value as text (nil for an unset optional).
    let render: @Sendable (WorkerConfiguration) -> String?

    /// `MARGIN_ENGINE_` and the key upper-cased, dots as underscores.
    public var environmentName: String {
        "MARGIN_ENGINE_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    static func parsed<T>(_ key: String, _ path: any WritableKeyPath<WorkerConfiguration, T> & Sendable, aliases: [String] = [],
                          expected: String, _ parse: @escaping @Sendable (String) -> T?) -> WorkerSetting {
        WorkerSetting(key: key, aliases: aliases, assign: { configuration, text in
            guard let value = parse(text) else { throw ConfigurationError(key: key, reason: "expected \(expected), got '\(text)'") }
            configuration[keyPath: path] = value
        }, reset: { configuration in
            configuration[keyPath: path] = WorkerConfiguration()[keyPath: path]
        }, render: { configuration in
            let value: Any? = configuration[keyPath: path]
            return Self.text(of: value)
        })
    }

    /// Text of a setting's value; nil for an absent optional.
    static func text(of value: Any?) -> String? {
        guard let value else { return nil }
        if let optional = value as? any OptionalProtocol { return optional.wrappedText }
        return "\(value)"
    }

    static func text(_ key: String, _ path: any WritableKeyPath<WorkerConfiguration, String> & Sendable, aliases: [String] = []) -> WorkerSetting {
        parsed(key, path, aliases: aliases, expected: "text") { $0 }
    }

    static func optionalText(_ key: String, _ path: any WritableKeyPath<WorkerConfiguration, String?> & Sendable) -> WorkerSetting {
        parsed(key, path, expected: "text") { Optional($0) }
    }

    static func integer<T: FixedWidthInteger & SendableMetatype>(_ key: String, _ path: any WritableKeyPath<WorkerConfiguration, T> & Sendable) -> WorkerSetting {
        parsed(key, path, expected: "an integer") { T($0.trimmingCharacters(in: .whitespaces), radix: 10) }
    }

    static func number(_ key: String, _ path: any WritableKeyPath<WorkerConfiguration, Double> & Sendable) -> WorkerSetting {
        parsed(key, path, expected: "a number") { Double($0.trimmingCharacters(in: .whitespaces)).flatMap { $0.isFinite ? $0 : nil } }
    }

    static func optionalNumber(_ key: String, _ path: any WritableKeyPath<WorkerConfiguration, Double?> & Sendable) -> WorkerSetting {
        parsed(key, path, expected: "a number") { text -> Double?? in
            Double(text.trimmingCharacters(in: .whitespaces)).flatMap { $0.isFinite ? .some($0) : nil }
        }
    }

    static func flag(_ key: String, _ path: any WritableKeyPath<WorkerConfiguration, Bool> & Sendable) -> WorkerSetting {
        parsed(key, path, expected: "true or false") { text in
            switch text.trimmingCharacters(in: .whitespaces).lowercased() {
            case "true", "yes", "on": true
            case "false", "no", "off": false
            default: nil
            }
        }
    }
}

/// Lets ``WorkerSetting`` render optional settings (nil: left out of the description).
protocol OptionalProtocol {
    var wrappedText: String? { get }
}

extension Optional: OptionalProtocol {
    var wrappedText: String? { map { "\($0)" } }
}
