import Foundation

/// The static baseline of a run: the same portfolios on the same days margined by a parameter set
/// as shipped (no calibration, no historical simulation). Encoded as `{"params": {"id", "version",
/// "summary"}, "portfolios": [same shape as the run's]}`; `series` is not encoded.
public struct BaselineBacktest: Sendable, Hashable, Codable {
    public struct Parameters: Sendable, Hashable, Codable {
        public var id: String
        public var version: Int64
        public var summary: String
    }

    public var params: Parameters
    public var portfolios: [PortfolioBacktest]
    public var series: [BacktestSeries] = []

    enum CodingKeys: String, CodingKey { case params, portfolios }

    public init(params: Parameters, confidence: Double, series: [BacktestSeries]) {
        self.params = params
        self.portfolios = series.map { PortfolioBacktest(series: $0, confidence: confidence) }
        self.series = series
    }
}

/// One volatility model in `backtest --vol-models`: its out-of-sample one-day variance forecast
/// loss per underlying and the backtest figures under it. Encoded as `{"model", "forecast_loss":
/// {"BTC": {"observations", "qlike", "mse"}, …}, "portfolios": [same shape as the run's]}`.
public struct VolatilityModelComparison: Sendable, Hashable, Codable {
    public var model: String
    public var forecastLoss: [String: ForecastLoss]
    public var portfolios: [PortfolioBacktest]

    enum CodingKeys: String, CodingKey {
        case model
        case forecastLoss = "forecast_loss"
        case portfolios
    }

    public init(model: String, forecastLoss: [String: ForecastLoss], portfolios: [PortfolioBacktest]) {
        self.model = model
        self.forecastLoss = forecastLoss
        self.portfolios = portfolios
    }
}

/// A whole backtest run: its parameters, the statistics of every portfolio and measure, and the
/// series they were computed from (for the HTML report).
///
/// Encoded as `{"confidence", "horizon_days", "from", "to", "volatility_model", "portfolios",
/// "baseline", "vol_models"}` (the last two only when the run computed them); `series` is not
/// encoded (decoding gives an empty array).
public struct BacktestResult: Sendable, Hashable, Codable {
    /// The margin's confidence level, e.g. 0.99 (the coverage probability is `1 − confidence`).
    public var confidence: Double
    /// The margin period of risk the realised losses are measured over (days).
    public var horizonDays: Int
    /// First and last day of the backtest, `YYYY-MM-DD` (UTC).
    public var from: String
    public var to: String
    /// A human description of the volatility model, e.g. `EWMA λ = 0.94, 10-day FHS ES 99 %`.
    public var volatilityModel: String
    /// One entry per series, in the order of `series`.
    public var portfolios: [PortfolioBacktest]
    /// The measured series (margin and realised loss per day); not part of the JSON.
    public var series: [BacktestSeries]
    /// The static baseline (`--baseline PRESET`).
    public var baseline: BaselineBacktest?
    /// Every volatility model compared (`--vol-models`).
    public var volatilityModels: [VolatilityModelComparison]?

    enum CodingKeys: String, CodingKey {
        case confidence
        case horizonDays = "horizon_days"
        case from, to
        case volatilityModel = "volatility_model"
        case portfolios
        case baseline
        case volatilityModels = "vol_models"
    }

    public init(confidence: Double, horizonDays: Int, from: String, to: String, volatilityModel: String,
                portfolios: [PortfolioBacktest], series: [BacktestSeries] = []) {
        self.confidence = confidence
        self.horizonDays = horizonDays
        self.from = from
        self.to = to
        self.volatilityModel = volatilityModel
        self.portfolios = portfolios
        self.series = series
    }

    /// Computes the statistics of every series (`PortfolioBacktest(series:confidence:)`).
    /// `confidence` must lie strictly between 0 and 1.
    public init(confidence: Double, horizonDays: Int, from: String, to: String, volatilityModel: String,
                series: [BacktestSeries]) {
        self.init(confidence: confidence, horizonDays: horizonDays, from: from, to: to,
                  volatilityModel: volatilityModel,
                  portfolios: series.map { PortfolioBacktest(series: $0, confidence: confidence) },
                  series: series)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        confidence = try container.decode(Double.self, forKey: .confidence)
        horizonDays = try container.decode(Int.self, forKey: .horizonDays)
        from = try container.decode(String.self, forKey: .from)
        to = try container.decode(String.self, forKey: .to)
        volatilityModel = try container.decode(String.self, forKey: .volatilityModel)
        portfolios = try container.decode([PortfolioBacktest].self, forKey: .portfolios)
        series = []
        baseline = try container.decodeIfPresent(BaselineBacktest.self, forKey: .baseline)
        volatilityModels = try container.decodeIfPresent([VolatilityModelComparison].self, forKey: .volatilityModels)
    }

    /// The JSON document: pretty-printed with sorted keys (byte-for-byte deterministic for the
    /// same result), UTF-8, ending in a newline.
    ///
    /// Throws `BacktestReportError.nonFiniteNumber` naming the first NaN or infinite number
    /// instead of writing it (JSON has no such values).
    public func jsonData() throws -> Data {
        if !confidence.isFinite { throw BacktestReportError.nonFiniteNumber(path: "confidence", value: confidence) }
        var groups: [(String, [PortfolioBacktest])] = [("portfolios", portfolios)]
        if let baseline { groups.append(("baseline.portfolios", baseline.portfolios)) }
        for (index, comparison) in (volatilityModels ?? []).enumerated() {
            groups.append(("vol_models[\(index)].portfolios", comparison.portfolios))
            for (underlying, loss) in comparison.forecastLoss {
                for (name, value) in [("qlike", loss.qlike), ("mse", loss.mse)] where !value.isFinite {
                    throw BacktestReportError.nonFiniteNumber(path: "vol_models[\(index)].forecast_loss.\(underlying).\(name)", value: value)
                }
            }
        }
        for (prefix, list) in groups {
            for (index, portfolio) in list.enumerated() {
                for (path, value) in portfolio.numbers where !value.isFinite {
                    throw BacktestReportError.nonFiniteNumber(path: "\(prefix)[\(index)].\(path)", value: value)
                }
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .throw
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }
}

/// Why a backtest report could not be produced.
public enum BacktestReportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A statistic is NaN or infinite (JSON cannot carry it).
    case nonFiniteNumber(path: String, value: Double)

    public var description: String {
        switch self {
        case .nonFiniteNumber(let path, let value):
            return "backtest report: \(path) is \(value), not a finite number"
        }
    }
}
