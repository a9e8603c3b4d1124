import Foundation
import MarginCore

/// One option of a Deribit chain snapshot (the CSV format of `Tests/.../deribit/`), with the
/// exchange's own mark price (BTC per contract) and delta.
public struct DeribitChainOption: Sendable, Hashable {
    public var instrument: String
    public var right: OptionRight
    public var strike: Double
    /// Deribit's `underlying_price`: the forward of the option's expiry (USD).
    public var forward: Double
    public var expiryMs: Int64
    public var timestampMs: Int64
    /// Mark implied volatility as a fraction (Deribit quotes percent).
    public var markVolatility: Double
    /// Mark price in BTC.
    public var markPrice: Double
    /// Deribit's delta (Black-76 N(d1), or N(d1) − 1 for puts, on the forward).
    public var delta: Double
    public var indexPrice: Double
    /// Best bid/ask in BTC and sizes in contracts (0 when the side is empty).
    public var bestBid: Double
    public var bestBidSize: Double
    public var bestAsk: Double
    public var bestAskSize: Double

    /// Years of 365 days from the snapshot to expiry.
    public var timeToExpiry: Double { Double(expiryMs - timestampMs) / 31_536_000_000 }

    /// Black-76 inputs reproducing Deribit's mark: forward = underlying price, r = 0, inverse settlement.
    public var black76Inputs: Black76Inputs {
        Black76Inputs(forward: forward, strike: strike, timeToExpiry: timeToExpiry, volatility: markVolatility,
                      rate: 0, right: right, settlement: .inverse)
    }
}

/// Reads Deribit option chain snapshots and measures how well the engine's Black-76 reproduces them.
public enum DeribitChain {
    /// Parses the CSV (header required; quoted fields may hold commas).
    public static func parse(csv text: String) throws(ConformanceError) -> [DeribitChainOption] {
        let rows = CSV.rows(text)
        guard let header = rows.first else { throw .malformed(path: "csv", reason: "empty file") }
        var column: [String: Int] = [:]
        for (index, name) in header.enumerated() { column[name.trimmingCharacters(in: .whitespaces)] = index }
        for required in ["instrument_name", "option_type", "strike", "underlying_price", "expiration_timestamp", "timestamp", "mark_iv", "mark_price", "greeks"] where column[required] == nil {
            throw .malformed(path: "csv header", reason: "missing column \(required)")
        }
        var options: [DeribitChainOption] = []
        for (line, row) in rows.dropFirst().enumerated() where row.count > 1 {
            func field(_ name: String) -> String { column[name].flatMap { $0 < row.count ? row[$0] : nil } ?? "" }
            func number(_ name: String) throws(ConformanceError) -> Double {
                guard let value = Double(field(name)), value.isFinite else {
                    throw .malformed(path: "csv line \(line + 2) \(name)", reason: "not a number: '\(field(name))'")
                }
                return value
            }
            let type = field("option_type")
            guard type == "call" || type == "put" else { throw .malformed(path: "csv line \(line + 2) option_type", reason: "'\(type)'") }
            guard let delta = greek("delta", in: field("greeks")) else {
                throw .malformed(path: "csv line \(line + 2) greeks", reason: "no delta")
            }
            let forward = try number("underlying_price")
            options.append(DeribitChainOption(
                instrument: field("instrument_name"), right: type == "call" ? .call : .put, strike: try number("strike"),
                forward: forward, expiryMs: Int64(try number("expiration_timestamp")),
                timestampMs: Int64(try number("timestamp")), markVolatility: try number("mark_iv") / 100,
                markPrice: try number("mark_price"), delta: delta, indexPrice: (try? number("index_price")) ?? forward,
                bestBid: (try? number("best_bid_price")) ?? 0, bestBidSize: (try? number("best_bid_amount")) ?? 0,
                bestAsk: (try? number("best_ask_price")) ?? 0, bestAskSize: (try? number("best_ask_amount")) ?? 0))
        }
        return options
    }

    /// The bundled 2020-05-14 BTC chain snapshot (see `Resources/README.md`).
    public static func bundledSnapshot() throws(ConformanceError) -> [DeribitChainOption] {
        guard let url = Bundle.module.url(forResource: "btc_options_2020-05-14", withExtension: "csv"),
              let data = try? Data(contentsOf: url) else { throw .io("bundled chain snapshot missing") }
        return try parse(csv: String(decoding: data, as: UTF8.self))
    }

    /// The path of the bundled snapshot file.
    public static var bundledSnapshotPath: String? {
        Bundle.module.url(forResource: "btc_options_2020-05-14", withExtension: "csv")?.path
    }

    /// Extracts `'name': value` from Deribit's Python-dict rendering of the greeks.
    static func greek(_ name: String, in text: String) -> Double? {
        guard let range = text.range(of: "'\(name)':") else { return nil }
        let rest = text[range.upperBound...].drop { $0 == " " }
        let number = rest.prefix { "0123456789.-+eE".contains($0) }
        return Double(number)
    }

    /// Error statistics of the engine against the exchange's marks.
    public struct Report: Sendable, Hashable {
        public var count: Int
        public var priceMedian: Double, price99: Double, priceMax: Double
        public var deltaMedian: Double, delta99: Double, deltaMax: Double
        public var worstPriceInstrument: String
        /// Acceptance bounds: median price error ≤ 1e-5 BTC and median delta error ≤ 1e-3.
        public static let priceMedianBound = 1e-5
        public static let deltaMedianBound = 1e-3
        public var passes: Bool { priceMedian <= Self.priceMedianBound && deltaMedian <= Self.deltaMedianBound }
    }

    /// Prices every option with ``Black76`` and compares with the marks.
    public static func compare(_ options: [DeribitChainOption]) -> Report {
        var priceErrors: [Double] = [], deltaErrors: [Double] = []
        var worst = (0.0, "")
        for option in options {
            let inputs = option.black76Inputs
            let price = Black76.price(inputs)
            var linear = inputs
            linear.settlement = .linear
            let delta = Black76.valuation(linear).delta
            let priceError = abs(price - option.markPrice)
            priceErrors.append(priceError)
            deltaErrors.append(abs(delta - option.delta))
            if priceError > worst.0 { worst = (priceError, option.instrument) }
        }
        func quantile(_ values: [Double], _ q: Double) -> Double {
            guard !values.isEmpty else { return .nan }
            let sorted = values.sorted()
            let position = q * Double(sorted.count - 1)
            let low = Int(position.rounded(.down)), high = Int(position.rounded(.up))
            return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
        }
        return Report(count: options.count,
                      priceMedian: quantile(priceErrors, 0.5), price99: quantile(priceErrors, 0.99), priceMax: priceErrors.max() ?? .nan,
                      deltaMedian: quantile(deltaErrors, 0.5), delta99: quantile(deltaErrors, 0.99), deltaMax: deltaErrors.max() ?? .nan,
                      worstPriceInstrument: worst.1)
    }
}

/// Minimal RFC 4180 CSV reader: quoted fields, doubled quotes, CRLF or LF line ends.
enum CSV {
    static func rows(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        while let scalar = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if scalar == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { field.unicodeScalars.append("\"") } else { quoted = false; pending = next }
                    } else { quoted = false }
                } else {
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"": quoted = true
            case ",": row.append(field); field = ""
            case "\r": break
            case "\n": row.append(field); rows.append(row); row = []; field = ""
            default: field.unicodeScalars.append(scalar)
            }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}
