extension PriceHistory {
    /// The CSV layouts the loader accepts.
    public enum CSVLayout: String, Sendable {
        /// yfinance before 0.2.51: `Date,Open,High,Low,Close,Adj Close,Volume[,Ticker]`.
        case yfinanceClassic
        /// yfinance since 0.2.51: three header lines `Price,Close,High,Low,Open,Volume`,
        /// `Ticker,BTC-USD,…` and `Date,,,…`, then the rows.
        case yfinanceMultiIndex
        /// `date,close`, optionally with ATM implied-vol columns `atm_vol_<N>d` (annualised, 0.6 = 60 %).
        case plain
    }

    /// Parses a daily price CSV in any of the ``CSVLayout``s.
    ///
    /// The underlying is `underlying` when given, else the file's ticker with a quote suffix
    /// removed (`BTC-USD` → `BTC`). Missing, non-numeric or non-positive closes, duplicate and
    /// out-of-order dates are refused with the source name and line number (1-based).
    public static func parseCSV(_ text: String, source: String, underlying: String? = nil) throws(MarginError) -> (history: PriceHistory, layout: CSVLayout) {
        var lines: [(number: Int, fields: [Substring])] = []
        var number = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.allSatisfy({ $0 == " " || $0 == "," }) { continue }
            lines.append((number, line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces() }))
        }
        func fail(_ line: Int, _ reason: String) -> MarginError { .invalidInput(field: "\(source):\(line)", reason: reason) }
        guard let header = lines.first else { throw fail(1, "empty file") }
        let names = header.fields.map { $0.lowercased() }

        let layout: CSVLayout
        var dataStart = 1
        var ticker: String?
        let dateColumn: Int, closeColumn: Int
        var tickerColumn: Int?
        var volColumns: [(tenor: Int, column: Int)] = []
        if names.first == "price", names.contains("close") {
            layout = .yfinanceMultiIndex
            guard lines.count >= 3, lines[1].fields.first?.lowercased() == "ticker", lines[2].fields.first?.lowercased() == "date" else {
                throw fail(header.number, "a `Price,…` header must be followed by `Ticker,…` and `Date,…` lines")
            }
            dateColumn = 0
            closeColumn = names.firstIndex(of: "close")!
            ticker = lines[1].fields.count > closeColumn ? String(lines[1].fields[closeColumn]) : nil
            dataStart = 3
        } else if names.first == "date", names.contains("close"), names.contains("open") {
            layout = .yfinanceClassic
            dateColumn = 0
            closeColumn = names.firstIndex(of: "close")!
            tickerColumn = names.firstIndex(of: "ticker")
        } else if let d = names.firstIndex(of: "date"), let c = names.firstIndex(of: "close") {
            layout = .plain
            dateColumn = d
            closeColumn = c
            for (column, name) in names.enumerated() where name.hasPrefix("atm_vol_") && name.hasSuffix("d") {
                guard let tenor = Int(name.dropFirst("atm_vol_".count).dropLast()), tenor > 0 else {
                    throw fail(header.number, "column `\(name)`: expected atm_vol_<days>d")
                }
                volColumns.append((tenor, column))
            }
        } else {
            throw fail(header.number, "unrecognised header `\(header.fields.joined(separator: ","))`: expected `Date,Open,High,Low,Close,…`, the three-line `Price,Close,…` header, or `date,close`")
        }

        var days: [Int] = [], closes: [Double] = []
        var vols: [Int: [Double?]] = Dictionary(uniqueKeysWithValues: volColumns.map { ($0.tenor, []) })
        for (lineNumber, fields) in lines.dropFirst(dataStart) {
            guard fields.count > max(dateColumn, closeColumn) else { throw fail(lineNumber, "expected at least \(max(dateColumn, closeColumn) + 1) fields, found \(fields.count)") }
            guard let day = UTCDay.parse(fields[dateColumn]) else { throw fail(lineNumber, "`\(fields[dateColumn])` is not a date (YYYY-MM-DD)") }
            if let last = days.last {
                if day == last { throw fail(lineNumber, "duplicate date \(UTCDay.format(day))") }
                if day < last { throw fail(lineNumber, "date \(UTCDay.format(day)) is before the previous row's \(UTCDay.format(last))") }
            }
            let text = fields[closeColumn]
            guard !text.isEmpty else { throw fail(lineNumber, "missing close on \(UTCDay.format(day))") }
            guard let close = Double(text), close.isFinite, close > 0 else {
                throw fail(lineNumber, "close `\(text)` on \(UTCDay.format(day)) is not a positive finite number")
            }
            if let column = tickerColumn, fields.count > column, !fields[column].isEmpty {
                let value = String(fields[column])
                if let known = ticker, known != value { throw fail(lineNumber, "ticker \(value) differs from \(known) of earlier rows") }
                ticker = value
            }
            for (tenor, column) in volColumns {
                let cell = column < fields.count ? fields[column] : ""
                if cell.isEmpty { vols[tenor]!.append(nil); continue }
                guard let vol = Double(cell), vol.isFinite, vol > 0, vol < 10 else {
                    throw fail(lineNumber, "atm_vol_\(tenor)d `\(cell)` is not an annualised volatility in (0, 10)")
                }
                vols[tenor]!.append(vol)
            }
            days.append(day)
            closes.append(close)
        }
        guard !days.isEmpty else { throw fail(header.number, "no data rows") }
        let name = underlying ?? ticker.map(Self.underlyingName(ofTicker:)) ?? ""
        guard !name.isEmpty else { throw fail(header.number, "no ticker in the file: name the underlying (e.g. BTC=file.csv)") }
        return (try PriceHistory(underlying: name, days: days, closes: closes, impliedVolatility: vols), layout)
    }

    /// `BTC-USD` → `BTC`, `ETHUSDT` stays as it is.
    public static func underlyingName(ofTicker ticker: String) -> String {
        for suffix in ["-USD", "-USDT", "-USDC", "/USD"] where ticker.uppercased().hasSuffix(suffix) {
            return String(ticker.dropLast(suffix.count)).uppercased()
        }
        return ticker.uppercased()
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while let first = s.first, first == " " || first == "\"" { s = s.dropFirst() }
        while let last = s.last, last == " " || last == "\"" { s = s.dropLast() }
        return s
    }
}
