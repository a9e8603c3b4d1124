/// Scales, ticks and downsampling for the report's inline SVG charts.
enum ChartGeometry {
    /// Width of every chart's view box (the SVG scales to the page width).
    static let width = 960.0
    /// Space left of the plot for the value labels, right of it, and below it for the dates.
    static let leftInset = 64.0
    static let rightInset = 16.0
    static let bottomInset = 28.0

    static var plotWidth: Double { width - leftInset - rightInset }

    /// The x coordinate of day `index` out of `count` days.
    static func x(_ index: Int, count: Int) -> Double {
        guard count > 1 else { return leftInset + plotWidth / 2 }
        return leftInset + plotWidth * Double(index) / Double(count - 1)
    }

    /// A coordinate with at most one decimal (keeps the page small; 0.1 px is invisible).
    static func coordinate(_ v: Double) -> String {
        TextFormatting.fixed(v, 1).replacingTrailingDecimalZero()
    }

    /// "Nice" tick values (steps of 1, 2, 2.5 or 5 × 10^k) covering `lo...hi` with about `count`
    /// intervals; the first and last ticks enclose the data.
    static func niceTicks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
        var lo = lo, hi = hi
        if !(lo.isFinite && hi.isFinite) { lo = 0; hi = 1 }
        if hi - lo <= 0 { let pad = max(abs(hi) * 0.1, 1); lo -= pad; hi += pad }
        let raw = (hi - lo) / Double(max(count, 1))
        var power = 1.0
        while power * 10 <= raw { power *= 10 }
        while power > raw { power /= 10 }
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * power }.first { $0 >= raw } ?? 10 * power
        let first = (lo / step).rounded(.down), last = (hi / step).rounded(.up)
        return stride(from: first, through: last, by: 1).map { $0 * step }
    }

    /// Min/max downsampling: splits `values` into at most `buckets` consecutive buckets and keeps,
    /// per bucket, the finite minimum and maximum in their original order (one point when they
    /// coincide). Non-finite values are skipped; a bucket without finite values yields `nil`,
    /// which breaks the line. Series no longer than `buckets` are returned as they are.
    static func minMax(_ values: [Double], buckets: Int) -> [(index: Int, value: Double)?] {
        let n = values.count
        if n <= buckets {
            return values.enumerated().map { $0.element.isFinite ? ($0.offset, $0.element) : nil }
        }
        var out = [(index: Int, value: Double)?]()
        out.reserveCapacity(2 * buckets)
        for b in 0..<buckets {
            let start = b * n / buckets, end = (b + 1) * n / buckets
            var lowest: (index: Int, value: Double)?
            var highest: (index: Int, value: Double)?
            for i in start..<end where values[i].isFinite {
                if lowest == nil || values[i] < lowest!.value { lowest = (i, values[i]) }
                if highest == nil || values[i] > highest!.value { highest = (i, values[i]) }
            }
            guard let lowest, let highest else { out.append(nil); continue }
            if lowest.index == highest.index {
                out.append(lowest)
            } else {
                out.append(lowest.index < highest.index ? lowest : highest)
                out.append(lowest.index < highest.index ? highest : lowest)
            }
        }
        return out
    }

    /// An SVG path (`M x y L x y …`) through the points; `nil` entries start a new sub-path. A
    /// sub-path of one point (a lone day between gaps) is drawn as a zero-length segment, visible
    /// with round line caps.
    static func path(_ points: [(index: Int, value: Double)?], count: Int, y: (Double) -> Double) -> String {
        var parts = [String]()
        var run = [String]()
        func flush() {
            guard let first = run.first else { return }
            parts.append("M" + first + (run.count == 1 ? "h0" : "L" + run.dropFirst().joined(separator: " ")))
            run.removeAll(keepingCapacity: true)
        }
        for point in points {
            guard let point else { flush(); continue }
            run.append(coordinate(x(point.index, count: count)) + " " + coordinate(y(point.value)))
        }
        flush()
        return parts.joined()
    }

    /// About `count` evenly spaced day indices for the date labels (first and last included).
    static func dateTickIndices(count days: Int, labels: Int = 6) -> [Int] {
        guard days > 1 else { return days == 1 ? [0] : [] }
        let steps = min(labels - 1, days - 1)
        return (0...steps).map { Int((Double($0) * Double(days - 1) / Double(steps)).rounded()) }
    }
}

private extension String {
    /// `12.0` → `12` (coordinates only).
    func replacingTrailingDecimalZero() -> String {
        hasSuffix(".0") ? String(dropLast(2)) : self
    }
}
