import ArgumentParser
import CommandLineSupport
import Foundation
import MarginCore
import MarginSchema

/// `margin-engine preset NAME`: prints a shipped parameter preset (protobuf JSON).
struct PresetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "preset", abstract: "Print a shipped risk-parameter preset.")

    @Argument(help: "Preset name (\(RiskPresets.names.joined(separator: ", "))).")
    var name: String

    func run() throws {
        do {
            let parameters = try RiskPresets.json(named: name)
            _ = try RiskPresets.load(name) // validated before printing
            FileHandleOutput.standardOutput(String(decoding: parameters, as: UTF8.self) + "\n")
        } catch {
            failInput(error.description)
        }
    }
}
