import ArgumentParser
import Foundation

/// `margin-engine`: the portfolio margin engine's command-line entry point.
@main
struct MarginEngineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "margin-engine",
        abstract: "Dynamic portfolio margin engine for crypto derivatives.",
        subcommands: [MarginCommand.self, PriceCommand.self, CalibrateCommand.self, CalibratorCommand.self, BacktestCommand.self, CascadeCommand.self, ConformanceCommand.self, PresetCommand.self, RunCommand.self, DevBrokerCommand.self, DemoCommand.self]
    )
}

