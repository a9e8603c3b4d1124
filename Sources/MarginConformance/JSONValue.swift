import Foundation

/// A parsed JSON document navigated by key and index, with decimal strings accepted wherever a
/// number is expected (Derive's golden cases write 18-decimal numbers as strings).
struct JSONValue: @unchecked Sendable {
    let raw: Any?
    let path: String

    init(data: Data, path: String = "$") throws(ConformanceError) {
        do {
            raw = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw .malformed(path: path, reason: "not JSON: \(error.localizedDescription)")
        }
        self.path = path
    }

    init(raw: Any?, path: String) {
        self.raw = raw
        self.path = path
    }

    subscript(key: String) -> JSONValue {
        JSONValue(raw: (raw as? [String: Any])?[key], path: "\(path).\(key)")
    }

    subscript(index: Int) -> JSONValue {
        guard let array = raw as? [Any], array.indices.contains(index) else { return JSONValue(raw: nil, path: "\(path)[\(index)]") }
        return JSONValue(raw: array[index], path: "\(path)[\(index)]")
    }

    var exists: Bool { raw != nil && !(raw is NSNull) }

    var array: [JSONValue] {
        guard let array = raw as? [Any] else { return [] }
        return array.enumerated().map { JSONValue(raw: $1, path: "\(path)[\($0)]") }
    }

    /// The number (a decimal string counts); refuses missing, non-numeric and non-finite values.
    func double() throws(ConformanceError) -> Double {
        let value: Double
        if let number = raw as? NSNumber {
            value = number.doubleValue
        } else if let text = raw as? String, let parsed = Double(text.trimmingCharacters(in: .whitespaces)) {
            value = parsed
        } else {
            throw .malformed(path: path, reason: raw == nil ? "missing" : "not a number")
        }
        guard value.isFinite else { throw .malformed(path: path, reason: "not a finite number") }
        return value
    }

    func double(default value: Double) throws(ConformanceError) -> Double {
        exists ? try double() : value
    }

    func string() throws(ConformanceError) -> String {
        if let text = raw as? String { return text }
        if let number = raw as? NSNumber { return number.stringValue }
        throw .malformed(path: path, reason: raw == nil ? "missing" : "not a string")
    }

    func bool() throws(ConformanceError) -> Bool {
        if let flag = raw as? Bool { return flag }
        if let number = raw as? NSNumber { return number.doubleValue != 0 }
        if let text = raw as? String { return ["true", "1"].contains(text.lowercased()) }
        throw .malformed(path: path, reason: raw == nil ? "missing" : "not a boolean")
    }
}

/// Why a conformance input could not be used.
public enum ConformanceError: Error, Sendable, CustomStringConvertible {
    case malformed(path: String, reason: String)
    case io(String)

    public var description: String {
        switch self {
        case .malformed(let path, let reason): return "\(path): \(reason)"
        case .io(let reason): return reason
        }
    }
}
