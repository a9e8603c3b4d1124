import Foundation

/// A whole backtest run: its parameters, the statistics of every portfolio and measure, and the
/// series they were computed from (for the HTML report).
///
/// Encoded as `{"confidence", "horizon_days", "from", "to", "volatility_model", "portfolios"}`;
/// `series` is not encoded (decoding gives an empty array).
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

    enum CodingKeys: String, CodingKey {
        case confidence
        case horizonDays = "horizon_days"
        case from, to
        case volatilityModel = "volatility_model"
        case portfolios
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
    }

    /// The JSON document: pretty-printed with sorted keys (byte-for-byte deterministic for the
    /// same result), UTF-8, ending in a newline.
    ///
    /// Throws `BacktestReportError.nonFiniteNumber` naming the first NaN or infinite number
    /// instead of writing it (JSON has no such values).
    public func jsonData() throws -> Data {
        if !confidence.isFinite { throw BacktestReportError.nonFiniteNumber(path: "confidence", value: confidence) }
        for (index, portfolio) in portfolios.enumerated() {
            for (path, value) in portfolio.numbers where !value.isFinite {
                throw BacktestReportError.nonFiniteNumber(path: "portfolios[\(index)].\(path)", value: value)
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
