/// An inline SVG line chart over days: value grid with labels, date labels, a legend, lines
/// downsampled min/max per pixel column, and point markers (e.g. exceptions). Styled by the
/// report's CSS (`.chart …` rules).
struct SVGLineChart {
    struct Line {
        var label: String
        /// A CSS colour.
        var color: String
        /// One value per day (same length as `dates`); non-finite values leave a gap.
        var values: [Double]
        var dashed = false
    }

    struct Marker {
        var index: Int
        var value: Double
        /// Filled red dot, or a red ring when not filled.
        var filled: Bool
        /// Hover text (escaped when rendered).
        var label: String
    }

    /// The chart's accessible `<title>` (escaped when rendered).
    var title: String
    var dates: [String]
    var lines: [Line]
    var markers: [Marker] = []
    /// Legend entries for the marker kinds present.
    var markerLegend: [(filled: Bool, label: String)] = []
    var height = 300.0

    private static let topInset = 30.0

    func render() -> String {
        typealias G = ChartGeometry
        let count = dates.count
        let finite = lines.flatMap { $0.values.filter(\.isFinite) } + markers.map(\.value).filter(\.isFinite)
        let ticks = G.niceTicks(finite.min() ?? 0, finite.max() ?? 1)
        let lo = ticks.first ?? 0, hi = ticks.last ?? 1
        let top = Self.topInset, bottom = height - G.bottomInset
        let y = { (v: Double) in bottom - (v - lo) / (hi - lo) * (bottom - top) }
        var svg = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(G.coordinate(G.width)) "
            + "\(G.coordinate(height))\" role=\"img\"><title>\(TextFormatting.html(title))</title>\n"
        // Value grid and labels; the zero line is darker.
        for tick in ticks {
            let ty = G.coordinate(y(tick))
            svg += "<line class=\"\(tick == 0 ? "zero" : "grid")\" x1=\"\(G.coordinate(G.leftInset))\" "
                + "x2=\"\(G.coordinate(G.width - G.rightInset))\" y1=\"\(ty)\" y2=\"\(ty)\"/>"
                + "<text class=\"ylabel\" x=\"\(G.coordinate(G.leftInset - 6))\" y=\"\(ty)\">"
                + "\(TextFormatting.compact(tick))</text>\n"
        }
        svg += dateAxis(bottom: bottom)
        let buckets = Int(G.plotWidth)
        for line in lines {
            let d = G.path(G.minMax(line.values, buckets: buckets), count: count, y: y)
            guard !d.isEmpty else { continue }
            svg += "<path class=\"series\" stroke=\"\(line.color)\"\(line.dashed ? " stroke-dasharray=\"5 3\"" : "")"
                + " d=\"\(d)\"/>\n"
        }
        // Every marker is drawn (consecutive days may overlap on screen, but each keeps its own dot
        // and hover text), in date order.
        for marker in markers.sorted(by: { $0.index < $1.index }) where marker.value.isFinite && marker.index >= 0 && marker.index < count {
            svg += "<circle class=\"\(marker.filled ? "exc" : "exc-other")\" data-date=\"\(TextFormatting.html(dates[marker.index]))\" "
                + "cx=\"\(G.coordinate(G.x(marker.index, count: count)))\" "
                + "cy=\"\(G.coordinate(y(marker.value)))\" r=\"3.5\"><title>\(TextFormatting.html(marker.label))</title></circle>\n"
        }
        svg += legend()
        return svg + "</svg>\n"
    }

    /// Date labels under the plot, with small ticks.
    private func dateAxis(bottom: Double) -> String {
        typealias G = ChartGeometry
        var s = "<line class=\"axis\" x1=\"\(G.coordinate(G.leftInset))\" x2=\"\(G.coordinate(G.width - G.rightInset))\" "
            + "y1=\"\(G.coordinate(bottom))\" y2=\"\(G.coordinate(bottom))\"/>"
        let indices = G.dateTickIndices(count: dates.count)
        for (n, index) in indices.enumerated() {
            let x = G.coordinate(G.x(index, count: dates.count))
            let anchor = n == 0 && indices.count > 1 ? "start" : n == indices.count - 1 && n > 0 ? "end" : "middle"
            s += "<line class=\"axis\" x1=\"\(x)\" x2=\"\(x)\" y1=\"\(G.coordinate(bottom))\" y2=\"\(G.coordinate(bottom + 4))\"/>"
                + "<text class=\"xlabel\" text-anchor=\"\(anchor)\" x=\"\(x)\" y=\"\(G.coordinate(bottom + 17))\">"
                + "\(TextFormatting.html(dates[index]))</text>"
        }
        return s + "\n"
    }

    /// The legend along the top: a stroke sample per line, a dot per marker kind.
    private func legend() -> String {
        var x = ChartGeometry.leftInset
        var s = ""
        for line in lines {
            s += "<line class=\"key\" stroke=\"\(line.color)\"\(line.dashed ? " stroke-dasharray=\"5 3\"" : "")"
                + " x1=\"\(ChartGeometry.coordinate(x))\" x2=\"\(ChartGeometry.coordinate(x + 18))\" y1=\"12\" y2=\"12\"/>"
                + "<text class=\"key\" x=\"\(ChartGeometry.coordinate(x + 24))\" y=\"16\">\(TextFormatting.html(line.label))</text>"
            x += 24 + 7 * Double(line.label.count) + 18
        }
        for entry in markerLegend {
            s += "<circle class=\"\(entry.filled ? "exc" : "exc-other")\" cx=\"\(ChartGeometry.coordinate(x + 6))\" cy=\"12\" r=\"3.5\"/>"
                + "<text class=\"key\" x=\"\(ChartGeometry.coordinate(x + 14))\" y=\"16\">\(TextFormatting.html(entry.label))</text>"
            x += 14 + 7 * Double(entry.label.count) + 18
        }
        return s + "\n"
    }
}
