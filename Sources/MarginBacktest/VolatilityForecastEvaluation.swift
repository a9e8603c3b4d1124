#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import MarginCore

/// Each volatility model's one-day variance forecasts out of sample, on each underlying's own
/// history: for every return dated within the backtest's days, the forecast made before it by a
/// model fitted on the returns before the last refit (every ``RiskModelSettings/refitDays``, on the
/// most recent ``RiskModelSettings/fitWindowDays``), scored by ``ForecastLoss``.
public enum VolatilityForecastEvaluation {
    public static func evaluate(_ history: PriceHistory, model: VolatilityModel, settings: RiskModelSettings,
                                fromDay: Int, toDay: Int) throws(MarginError) -> ForecastLoss {
        let returns = history.count < 2 ? [] : (1..<history.count).map { log(history.closes[$0] / history.closes[$0 - 1]) }
        // Return i is dated days[i + 1]; the targets are the returns dated after `fromDay`, up to `toDay`.
        let targets = returns.indices.filter { history.days[$0 + 1] > fromDay && history.days[$0 + 1] <= toDay && $0 > settings.seedReturns }
        guard let first = targets.first else { return ForecastLoss(observations: 0, qlike: 0, mse: 0) }
        var forecasts: [Double] = [], outcomes: [Double] = []
        var blockStart = first
        while blockStart <= targets.last! {
            let blockEnd = min(blockStart + settings.refitDays, returns.count)
            let fit = try model.fit(Array(returns[..<blockStart]), lambda: settings.lambda, seedCount: settings.seedReturns,
                                    window: settings.fitWindowDays)
            // Forecasts are causal: element i uses returns before i only.
            let path = fit.forecasts(Array(returns[..<blockEnd]))
            for i in blockStart..<blockEnd where history.days[i + 1] <= toDay {
                forecasts.append(path[i])
                outcomes.append(returns[i])
            }
            blockStart = blockEnd
        }
        return ForecastLoss(forecasts: forecasts, returns: outcomes)
    }
}
