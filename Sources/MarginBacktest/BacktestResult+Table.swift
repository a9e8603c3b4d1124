extension BacktestResult {
    /// A plain-text summary for the terminal: one row per portfolio and measure with the number of
    /// observations and exceptions, the realised coverage (%), Kupiec's p-value, Christoffersen's
    /// conditional-coverage p-value and the traffic-light zone; columns aligned with spaces, a
    /// header line and a rule, ending in a newline.
    public func summaryTable() -> String {
        let header = ["Portfolio", "Measure", "Obs", "Exc", "Coverage %", "Kupiec p", "CC p", "Zone"]
        let rows: [[String]] = portfolios.map { p in
            [
                p.name,
                p.measure.rawValue.uppercased(),
                String(p.observations),
                String(p.exceptions),
                TextFormatting.fixed(p.coverage * 100, 2),
                TextFormatting.pValue(p.kupiec.p),
                TextFormatting.pValue(p.christoffersen.pConditionalCoverage),
                p.trafficLight.zone.rawValue,
            ]
        }
        // Text columns are left-aligned, numeric ones right-aligned.
        let rightAligned: Set<Int> = [2, 3, 4, 5, 6]
        var widths = header.map(\.count)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            let padded = cells.enumerated().map { column, cell in
                TextFormatting.pad(cell, widths[column], right: rightAligned.contains(column))
            }
            var text = padded.joined(separator: "  ")
            while text.hasSuffix(" ") { text.removeLast() }
            return text
        }
        var lines = [line(header), String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))]
        lines += rows.map(line)
        if rows.isEmpty { lines.append("(no portfolios)") }
        let title = "Backtest \(from) – \(to), confidence \(TextFormatting.percent(confidence, 2)), "
            + "horizon \(horizonDays) d"
        return ([title, ""] + lines).joined(separator: "\n") + "\n"
    }
}
