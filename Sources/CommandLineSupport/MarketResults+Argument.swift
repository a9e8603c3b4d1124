import ArgumentParser
import MarginEngineCore

/// `--market-results full|summary` in `demo` and `margin-engine-bench --worker`.
extension EngineSettings.MarketResults: ExpressibleByArgument {}
