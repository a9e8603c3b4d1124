import Foundation

/// Runs the built `margin-engine` (`swift build` puts it in `.build/debug`) with bounded waits.
enum CLI {
    /// The package root (this file is `Tests/MarginEngineCLITests/Support/…`).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static var binaryDirectory: URL { root.appendingPathComponent(".build/debug") }

    struct Outcome: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String], stdin: String, timeoutSeconds: Double = 60) throws -> Outcome {
        let binary = binaryDirectory.appendingPathComponent("margin-engine")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw CLIError(description: "\(binary.path) is missing: run `swift build --build-tests` first")
        }
        return try launch(binary, arguments, stdin: stdin, timeoutSeconds: timeoutSeconds)
    }

    /// Runs one README shell command with `margin-engine` on the PATH, from the package root.
    static func shell(_ command: String, timeoutSeconds: Double = 60) throws -> Outcome {
        guard FileManager.default.isExecutableFile(atPath: binaryDirectory.appendingPathComponent("margin-engine").path) else {
            throw CLIError(description: "margin-engine is not built: run `swift build --build-tests` first")
        }
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = binaryDirectory.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        return try launch(URL(fileURLWithPath: "/bin/sh"), ["-c", command], stdin: "", environment: environment,
                          timeoutSeconds: timeoutSeconds)
    }

    static func launch(_ executable: URL, _ arguments: [String], stdin: String, environment: [String: String]? = nil,
                       timeoutSeconds: Double) throws -> Outcome {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = root
        if let environment { process.environment = environment }
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Bounded: the process is terminated if it outlives the deadline.
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeoutSeconds, execute: watchdog)
        defer { watchdog.cancel() }
        let errorReader = DispatchGroup()
        let stderrBox = DataBox()
        DispatchQueue.global().async(group: errorReader) { stderrBox.set(errors.fileHandleForReading.readDataToEndOfFile()) }
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        errorReader.wait()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderrBox.get(), as: UTF8.self))
    }

    static func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw CLIError(description: "not a JSON object: \(line)")
            }
            return object
        }
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
}

/// Data written by one thread and read after it finished.
final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ value: Data) { lock.withLock { data = value } }
    func get() -> Data { lock.withLock { data } }
}
