/// An inline SVG exception timeline: one row per measure, a red tick on each day with an
/// exception (each its own tick with its date, even when neighbouring days share a pixel column),
/// date labels underneath.
struct SVGTimeline {
    struct Row {
        var label: String
        /// One flag per day (same length as `dates`); `true` = exception.
        var exceptions: [Bool]
    }

    /// The chart's accessible `<title>` (escaped when rendered).
    var title: String
    var dates: [String]
    var rows: [Row]

    private static let rowHeight = 26.0
    private static let topInset = 8.0

    func render() -> String {
        typealias G = ChartGeometry
        let count = dates.count
        let bottom = Self.topInset + Self.rowHeight * Double(max(rows.count, 1))
        let height = bottom + G.bottomInset
        var svg = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(G.coordinate(G.width)) "
            + "\(G.coordinate(height))\" role=\"img\"><title>\(TextFormatting.html(title))</title>\n"
        for (r, row) in rows.enumerated() {
            let top = Self.topInset + Self.rowHeight * Double(r)
            let mid = G.coordinate(top + Self.rowHeight / 2)
            let total = row.exceptions.count(where: { $0 })
            svg += "<text class=\"ylabel\" x=\"\(G.coordinate(G.leftInset - 6))\" y=\"\(mid)\">"
                + "\(TextFormatting.html(row.label)) (\(total))</text>"
                + "<line class=\"grid\" x1=\"\(G.coordinate(G.leftInset))\" x2=\"\(G.coordinate(G.width - G.rightInset))\" "
                + "y1=\"\(mid)\" y2=\"\(mid)\"/>"
            for (index, flag) in row.exceptions.enumerated() where flag && index < count {
                let x = G.coordinate(G.x(index, count: count))
                svg += "<line class=\"tick\" data-date=\"\(TextFormatting.html(dates[index]))\" x1=\"\(x)\" x2=\"\(x)\" "
                    + "y1=\"\(G.coordinate(top + 5))\" y2=\"\(G.coordinate(top + Self.rowHeight - 5))\"><title>\(TextFormatting.html(dates[index]))</title></line>"
            }
            svg += "\n"
        }
        svg += "<line class=\"axis\" x1=\"\(G.coordinate(G.leftInset))\" x2=\"\(G.coordinate(G.width - G.rightInset))\" "
            + "y1=\"\(G.coordinate(bottom))\" y2=\"\(G.coordinate(bottom))\"/>"
        let indices = G.dateTickIndices(count: count)
        for (n, index) in indices.enumerated() {
            let x = G.coordinate(G.x(index, count: count))
            let anchor = n == 0 && indices.count > 1 ? "start" : n == indices.count - 1 && n > 0 ? "end" : "middle"
            svg += "<line class=\"axis\" x1=\"\(x)\" x2=\"\(x)\" y1=\"\(G.coordinate(bottom))\" y2=\"\(G.coordinate(bottom + 4))\"/>"
                + "<text class=\"xlabel\" text-anchor=\"\(anchor)\" x=\"\(x)\" y=\"\(G.coordinate(bottom + 17))\">"
                + "\(TextFormatting.html(dates[index]))</text>"
        }
        return svg + "\n</svg>\n"
    }
}
