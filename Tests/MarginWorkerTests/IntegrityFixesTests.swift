import Foundation
import Hummingbird
import HummingbirdTesting
import KafkaClient
import MarginCore
import MarginSchema
import Testing
import TestSupport
@testable import MarginWorker

/// Issue 12, items 7, 12, 13 and 14: each test fails without its fix.
@Suite("Integrity fixes (issue 12: clock skew, encoded ids, price 0/1, settings)")
struct IntegrityFixesTests {
    static let now: Int64 = 1_700_000_000_000

    static func marketRecord(_ market: UnderlyingMarket, offset: Int64) -> KafkaMessage {
        KafkaMessage(topic: TopicNames().market, partition: 0, offset: offset, key: Data(market.underlying.utf8),
                     value: SchemaCoding.encode(market.proto, format: .protobuf), headers: [], timestampMs: now)
    }

    // MARK: 7 — future-dated market snapshots

    @Test("A snapshot dated beyond max_clock_skew_ms is dead-lettered and does not freeze its underlying")
    func futureSnapshotDeadLettered() async throws {
        let (engine, configuration) = try await WorkerHTTPTests.engine() // clock fixed at `now`, BTC at `now`
        let twoDaysAhead = Self.now + 2 * 86_400_000
        await engine.handleReference(.message(Self.marketRecord(TestWorld.btc(index: 90_000, at: twoDaysAhead), offset: 10)))

        let letters = await engine.batch.records.filter { $0.topic == configuration.topics.deadLetter }
        try #require(letters.count == 1)
        let headers = Dictionary(letters[0].headers.map { ($0.name, String(decoding: $0.value ?? Data(), as: UTF8.self)) },
                                 uniquingKeysWith: { a, _ in a })
        #expect(headers["dlq-reason"] == "invalid_input")
        #expect(headers["dlq-source-topic"] == configuration.topics.market)
        #expect(headers["dlq-source-offset"] == "10")
        let error = headers["dlq-error"] ?? ""
        #expect(error.contains("market.timestamp_ms") && error.contains("future"), "dlq-error: \(error)")
        #expect(await engine.reference.data.markets["BTC"]?.timestampMs == Self.now, "the future snapshot must not be held")

        // A current snapshot (within the skew) is still accepted and processed.
        let current = Self.now + 4_000
        await engine.handleReference(.message(Self.marketRecord(TestWorld.btc(index: 61_000, at: current), offset: 11)))
        #expect(await engine.reference.data.markets["BTC"]?.timestampMs == current)
        await engine.tick()
        let status = await engine.status()
        #expect(status.processedMarketMs["BTC"] == current)
        #expect(status.staleUnderlyings.isEmpty)
        #expect(await engine.batch.records.filter { $0.topic == configuration.topics.deadLetter }.count == 1)
    }

    @Test("max_clock_skew_ms is a setting: 0 refuses any snapshot ahead of the clock")
    func clockSkewSetting() async throws {
        var configuration = WorkerConfiguration()
        try configuration.set("max_clock_skew_ms", "0")
        let now = Self.now
        let engine = MarginEngine(configuration: configuration, logger: WorkerHarness.logger, clock: { now })
        await engine.handleReference(.message(Self.marketRecord(TestWorld.btc(index: 60_000, at: now + 1), offset: 0)))
        #expect(await engine.reference.data.markets["BTC"] == nil)
        await engine.handleReference(.message(Self.marketRecord(TestWorld.btc(index: 60_000, at: now), offset: 1)))
        #expect(await engine.reference.data.markets["BTC"]?.timestampMs == now)
        // No accounts partition is owned here: the reference dead letter waits for the owner of partition 0.
        #expect(await engine.pendingReferenceDeadLetters.count == 1)
        try configuration.set("max_clock_skew_ms", "-1")
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }

    // MARK: 12 — percent-encoded account ids

    @Test("GET /v1/accounts/{id} percent-decodes the id")
    func percentEncodedAccountID() async throws {
        let (engine, configuration) = try await WorkerHTTPTests.engine()
        let id = "acct x/1"
        let account = Account(id: id, version: 1, balances: ["USDC": 20_000],
                              positions: [Position(instrument: "ETH-PERPETUAL", quantity: 3, averageEntryPrice: 3_000)])
        let record = KafkaMessage(topic: configuration.topics.accounts, partition: 0, offset: 100, key: Data(id.utf8),
                                  value: SchemaCoding.encode(account.proto, format: .protobuf), headers: [], timestampMs: Self.now)
        await engine.handleAccounts(.message(record))
        #expect(await engine.currentResult(accountID: id) != nil)
        let app = buildApplication(engine: engine, configuration: configuration, logger: WorkerHarness.logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/accounts/acct%20x%2F1", method: .get) { response in
                #expect(response.status == .ok)
                let result = try SchemaCoding.decode(Margin_V1_MarginResult.self, from: Data(response.body.readableBytesView), format: .json)
                #expect(result.accountID == id)
            }
            // Encoding an ordinary character changes nothing.
            try await client.execute(uri: "/v1/accounts/%65%30", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/accounts/acct%20y%2F1", method: .get) { response in
                #expect(response.status == .notFound)
                let body = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
                #expect((body?["error"] as? String)?.contains("acct y/1") == true, "\(String(describing: body))")
            }
        }
    }

    // MARK: 13 — margin-engine price with 0 and 1

    @Test("margin-engine price accepts 0 and 1 as numbers and still refuses booleans")
    func priceZeroAndOne() throws {
        let lines = [
            #"{"forward": 60000, "strike": 55000, "expiry_years": 1, "vol": 0.8, "rate": 0, "type": "call"}"#,
            #"{"forward": 1, "strike": 1, "expiry_years": 1, "vol": 1, "rate": 1, "type": "put", "settlement": "inverse"}"#,
            #"{"forward": 60000, "strike": 55000, "expiry_years": 0.5, "vol": 0.8, "rate": true, "type": "call"}"#,
            #"{"forward": 0, "strike": 55000, "expiry_years": 1, "vol": 0.8, "type": "call"}"#,
        ]
        let run = try CLI.run(["price"], stdin: lines.joined(separator: "\n") + "\n")
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let outputs = try CLI.jsonLines(run.stdout)
        try #require(outputs.count == 4, "stdout: \(run.stdout)")
        let expected = [
            Black76.valuation(Black76Inputs(forward: 60_000, strike: 55_000, timeToExpiry: 1, volatility: 0.8, rate: 0, right: .call, settlement: .linear)),
            Black76.valuation(Black76Inputs(forward: 1, strike: 1, timeToExpiry: 1, volatility: 1, rate: 1, right: .put, settlement: .inverse)),
        ]
        for (output, valuation) in zip(outputs, expected) {
            #expect(output["error"] == nil, "\(output)")
            let price = try #require(output["price"] as? Double)
            #expect(abs(price - valuation.price) <= 1e-12 * max(1, abs(valuation.price)))
            let delta = try #require(output["delta"] as? Double)
            #expect(abs(delta - valuation.delta) <= 1e-12 * max(1, abs(valuation.delta)))
        }
        #expect((outputs[2]["error"] as? String)?.contains("rate: must be a number") == true, "\(outputs[2])")
        #expect(outputs[3]["code"] as? String == "invalid_input", "\(outputs[3])")
    }

    @Test("Every margin-engine price example in README.md and Schemas/README.md runs")
    func priceExamplesInReadmes() throws {
        var examples = 0
        for file in ["README.md", "Schemas/README.md"] {
            let text = try String(contentsOf: CLI.root.appendingPathComponent(file), encoding: .utf8)
            // The input format written inline as an example line with placeholders.
            for template in ReadmeExamples.priceTemplates(in: text) {
                for variant in ReadmeExamples.instantiate(template) {
                    examples += 1
                    let run = try CLI.run(["price"], stdin: variant + "\n")
                    let outputs = try CLI.jsonLines(run.stdout)
                    #expect(run.status == 0 && outputs.count == 1, "\(file): \(variant) → \(run.stdout) \(run.stderr)")
                    for output in outputs {
                        #expect(output["error"] == nil && output["price"] is Double, "\(file): \(variant) → \(output)")
                    }
                }
            }
            // Shell examples (```sh blocks) that run `margin-engine price`.
            for command in ReadmeExamples.shellCommands(in: text) where command.contains("margin-engine price") {
                examples += 1
                let run = try CLI.shell(command)
                #expect(run.status == 0, "\(file): \(command) → \(run.stderr)")
                let outputs = try CLI.jsonLines(run.stdout)
                #expect(!outputs.isEmpty, "\(file): \(command) printed nothing")
                for output in outputs {
                    #expect(output["error"] == nil && output["price"] is Double, "\(file): \(command) → \(output)")
                }
            }
        }
        #expect(examples > 0, "no margin-engine price example found in the READMEs")
    }

    // MARK: 14 — liquidation.* and topics.* from the environment and --set

    @Test("liquidation.* and topics.* work from YAML, environment and --set, in that order")
    func nestedSettingsEverywhere() throws {
        var configuration = try WorkerConfiguration.load(yaml: """
        liquidation:
          target_buffer: 0.2
          depth_fraction: 0.4
        topics:
          results: yaml.results
        """)
        #expect(configuration.liquidation.targetBuffer == 0.2 && configuration.liquidation.depthFraction == 0.4)
        #expect(configuration.topics.results == "yaml.results" && configuration.topics.market == TopicNames().market)
        try configuration.applyEnvironment([
            "MARGIN_ENGINE_LIQUIDATION_TARGET_BUFFER": "0.25",
            "MARGIN_ENGINE_LIQUIDATION_ENABLED": "false",
            "MARGIN_ENGINE_LIQUIDATION_BUDGET_WINDOW_MS": "2000",
            "MARGIN_ENGINE_TOPICS_RESULTS": "env.results",
            "MARGIN_ENGINE_TOPICS_ACCOUNTS": "env.accounts",
        ])
        #expect(configuration.liquidation.targetBuffer == 0.25 && !configuration.liquidation.enabled)
        #expect(configuration.liquidation.budgetWindowMs == 2_000 && configuration.liquidation.depthFraction == 0.4)
        #expect(configuration.topics.results == "env.results" && configuration.topics.accounts == "env.accounts")
        try configuration.set("liquidation.target_buffer", "0.3")
        try configuration.set("liquidation.deadline_ms", "45000")
        try configuration.set("topics.results", "flag.results")
        try configuration.set("topics.params", "flag.params")
        #expect(configuration.liquidation.targetBuffer == 0.3 && configuration.liquidation.deadlineMs == 45_000)
        #expect(configuration.topics.results == "flag.results" && configuration.topics.params == "flag.params")
        try configuration.validate()
        // Bad values and unknown keys name the setting.
        #expect(throws: ConfigurationError.self) { try configuration.set("liquidation.target_buffer", "lots") }
        #expect(throws: ConfigurationError.self) { try configuration.set("liquidation.no_such", "1") }
        #expect(throws: ConfigurationError.self) { try configuration.applyEnvironment(["MARGIN_ENGINE_LIQUIDATION_NO_SUCH": "1"]) }
        #expect(throws: ConfigurationError.self) { _ = try WorkerConfiguration.load(yaml: "liquidation:\n  target_bufer: 0.2\n") }
    }
}

/// Runs the built `margin-engine` (`swift build` puts it in `.build/debug`) with bounded waits.
enum CLI {
    /// The package root (this file is `Tests/MarginWorkerTests/…`).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

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

/// Examples written in the READMEs.
enum ReadmeExamples {
    /// Inline `{"forward": …}` input lines (in backticks), placeholders included.
    static func priceTemplates(in text: String) -> [String] {
        var templates: [String] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "`") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "`") else { break }
            let span = after[..<close]
            if span.hasPrefix("{") && span.contains("\"forward\"") && span.contains("\"strike\"") { templates.append(String(span)) }
            rest = after[after.index(after: close)...]
        }
        return templates
    }

    /// Concrete lines from a template: single-letter placeholders become numbers (F, K: prices;
    /// T: one year), and each `"a"|"b"` alternative is taken in turn (first of each, second of each).
    static func instantiate(_ template: String) -> [String] {
        let values: [Character: String] = ["F": "60000", "K": "55000", "T": "1", "S": "60000"]
        var line = ""
        let characters = Array(template)
        var i = 0
        while i < characters.count {
            let c = characters[i]
            let before = i > 0 ? characters[i - 1] : " "
            let after = i + 1 < characters.count ? characters[i + 1] : " "
            if c.isUppercase && c.isLetter && !before.isLetter && before != "\"" && !after.isLetter && after != "\"" {
                line += values[c] ?? "1"
            } else {
                line.append(c)
            }
            i += 1
        }
        // Alternatives: "a"|"b"|… → variant k takes the k-th (or the last) alternative.
        let pattern = #/"([^"]*)"(\|"[^"]*")+/#
        var variants: [String] = []
        let maximum = line.matches(of: pattern).map { $0.output.0.split(separator: "|").count }.max() ?? 1
        for k in 0..<maximum {
            variants.append(line.replacing(pattern) { match in
                let options = match.output.0.split(separator: "|")
                return options[min(k, options.count - 1)]
            })
        }
        return variants
    }

    /// Commands of the ```sh / ```bash / ```console blocks (continuation lines joined, comments
    /// and `$ ` prompts removed).
    static func shellCommands(in text: String) -> [String] {
        var commands: [String] = []
        var inShell = false, inBlock = false
        var pending = ""
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("```") {
                if inBlock {
                    inBlock = false
                    inShell = false
                } else {
                    inBlock = true
                    inShell = ["sh", "bash", "shell", "console", "zsh"].contains(line.dropFirst(3).trimmingCharacters(in: .whitespaces))
                }
                pending = ""
                continue
            }
            guard inShell else { continue }
            var command = line.hasPrefix("$ ") ? String(line.dropFirst(2)) : line
            if command.hasSuffix("\\") {
                command.removeLast()
                pending += command + " "
                continue
            }
            command = pending + command
            pending = ""
            if !command.isEmpty && !command.hasPrefix("#") { commands.append(command) }
        }
        return commands
    }
}
