import Foundation

/// Writes to standard output and error without buffering surprises.
public enum FileHandleOutput {
    public static func standardOutput(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    public static func standardError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// Reads a whole file or fails with exit code 2 naming it.
public func readInputFile(_ path: String, what: String) -> Data {
    guard let data = FileManager.default.contents(atPath: path) else {
        failInput("cannot read \(what) file \(path)")
    }
    return data
}

/// JSON text for a finite number, `null` otherwise.
public func jsonNumber(_ value: Double) -> Any {
    value.isFinite ? value : NSNull()
}

public func jsonLine(_ object: [String: Any]) -> String {
    guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
          let text = String(data: data, encoding: .utf8) else { return "{}" }
    return text
}

/// Prints `error: message` to stderr and exits 2 (bad input; 1 is kept for a failed check).
public func failInput(_ message: String) -> Never {
    FileHandleOutput.standardError("error: \(message)\n")
    exit(2)
}
