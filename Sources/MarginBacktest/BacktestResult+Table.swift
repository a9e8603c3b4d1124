import Foundation

extension BacktestResult {
    /// A plain-text summary for the terminal: one row per portfolio and measure with the number of
    /// observations and exceptions, the realised coverage (%), Kupiec's p-value, Christoffersen's
    /// conditional-coverage p-value, the traffic-light zone, the mean margin as % of notional, the
    /// margin over the realised 99 % loss and the largest 5-day rise; with a baseline, its coverage
    /// and mean margin beside them; with `--vol-models`, a table per model. Columns aligned with
    /// spaces, a header line and a rule, ending in a newline.
    public func summaryTable() -> String {
        var header = ["Portfolio", "Measure", "Obs", "Exc", "Coverage %", "Kupiec p", "CC p", "Zone", "Mean %N", "M/q99", "Max +5d %"]
        let baselineByKey = Dictionary((baseline?.portfolios ?? []).map { ("\($0.name)|\($0.measure)", $0) }, uniquingKeysWith: { a, _ in a })
        if baseline != nil { header += ["Static cov %", "Static mean %N"] }
        let rows: [[String]] = portfolios.map { p in
            var row = [
                p.name,
                p.measure.rawValue.uppercased(),
                String(p.observations),
                String(p.exceptions),
                TextFormatting.fixed(p.coverage * 100, 2),
                TextFormatting.pValue(p.kupiec.p),
                TextFormatting.pValue(p.christoffersen.pConditionalCoverage),
                p.trafficLight.zone.rawValue,
                TextFormatting.fixed(p.efficiency.meanMarginPctNotional, 1),
                TextFormatting.fixed(p.efficiency.marginOverQ99Loss, 2),
                TextFormatting.fixed(p.procyclicality.maxIncrease5d * 100, 0),
            ]
            if baseline != nil {
                let b = baselineByKey["\(p.name)|\(p.measure)"]
                row += [b.map { TextFormatting.fixed($0.coverage * 100, 2) } ?? "", b.map { TextFormatting.fixed($0.efficiency.meanMarginPctNotional, 1) } ?? ""]
            }
            return row
        }
        let title = "Backtest \(from) – \(to), confidence \(TextFormatting.percent(confidence, 2)), "
            + "horizon \(horizonDays) d" + (baseline.map { "; static baseline \($0.params.id)" } ?? "")
        var text = ([title, ""] + Self.aligned(header, rows, textColumns: [0, 1, 7])).joined(separator: "\n") + "\n"
        for comparison in volatilityModels ?? [] {
            text += "\nVolatility model \(comparison.model): out-of-sample one-day variance forecasts "
                + comparison.forecastLoss.keys.sorted().map { u in
                    let loss = comparison.forecastLoss[u]!
                    return "\(u) QLIKE \(TextFormatting.fixed(loss.qlike, 4)) MSE \(String(format: "%.3e", loss.mse)) (\(loss.observations))"
                }.joined(separator: ", ") + "\n"
            let imRows = comparison.portfolios.filter { $0.measure == .im }.map { p in
                [p.name, String(p.exceptions), TextFormatting.fixed(p.coverage * 100, 2), p.trafficLight.zone.rawValue,
                 TextFormatting.fixed(p.efficiency.meanMarginPctNotional, 1), TextFormatting.fixed(p.efficiency.marginOverQ99Loss, 2),
                 TextFormatting.fixed(p.procyclicality.maxIncrease5d * 100, 0), TextFormatting.fixed(p.efficiency.apcCost * 100, 1)]
            }
            text += Self.aligned(["Portfolio (IM)", "Exc", "Coverage %", "Zone", "Mean %N", "M/q99", "Max +5d %", "APC cost %"], imRows,
                                 textColumns: [0, 3]).joined(separator: "\n") + "\n"
        }
        return text
    }

    /// Rows under a header and a rule; text columns left-aligned, the others right-aligned.
    static func aligned(_ header: [String], _ rows: [[String]], textColumns: Set<Int>) -> [String] {
        var widths = header.map(\.count)
        for row in rows {
            for (column, cell) in row.enumerated() where column < widths.count { widths[column] = max(widths[column], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            let padded = cells.enumerated().map { column, cell in
                TextFormatting.pad(cell, widths[column], right: !textColumns.contains(column))
            }
            var text = padded.joined(separator: "  ")
            while text.hasSuffix(" ") { text.removeLast() }
            return text
        }
        var lines = [line(header), String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))]
        lines += rows.map(line)
        if rows.isEmpty { lines.append("(no portfolios)") }
        return lines
    }
}
