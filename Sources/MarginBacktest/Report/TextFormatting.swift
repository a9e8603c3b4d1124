import MarginCore
/// Number and text formatting for the table and the HTML report, without Foundation (and so
/// without locale: always `.` as the decimal separator and ASCII digits).
enum TextFormatting {
    /// `x` rounded to `digits` decimals, e.g. `fixed(0.49694, 3) == "0.497"`; `–` when not finite.
    static func fixed(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite else { return "–" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(x) * scale).rounded()
        // Beyond 2^53 the integer arithmetic below is no longer exact: fall back to Swift's form.
        guard scaled < 9.0e15 else { return "\(x)" }
        let units = Int64(scaled)
        let divisor = Int64(scale)
        let whole = String(units / divisor)
        let sign = x < 0 && units != 0 ? "-" : ""
        guard digits > 0 else { return sign + whole }
        let fraction = String(units % divisor)
        return sign + whole + "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }

    /// A fraction as a percentage, e.g. `percent(0.98934, 2) == "98.93 %"`.
    static func percent(_ fraction: Double, _ digits: Int) -> String {
        fixed(fraction * 100, digits) + " %"
    }

    /// A p-value: 4 decimals, or `< 0.0001` when smaller but positive.
    static func pValue(_ p: Double) -> String {
        p > 0 && p < 0.00005 ? "< 0.0001" : fixed(p, 4)
    }

    /// A short amount for axis labels: `1.25M`, `350k`, `12.5`, `-20k`.
    static func compact(_ x: Double) -> String {
        let magnitude = abs(x)
        let units: [(Double, String)] = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")]
        for (size, suffix) in units where magnitude >= size {
            return trimmed(fixed(x / size, 2)) + suffix
        }
        return trimmed(fixed(x, magnitude >= 10 || magnitude == 0 ? 0 : 2))
    }

    /// Removes trailing zeros of a decimal (`1.50` → `1.5`, `2.00` → `2`).
    private static func trimmed(_ s: String) -> String {
        guard s.contains(".") else { return s }
        var t = Substring(s)
        while t.hasSuffix("0") { t = t.dropLast() }
        if t.hasSuffix(".") { t = t.dropLast() }
        return String(t)
    }

    /// `s` left- or right-aligned in `width` characters (never truncated).
    static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return right ? fill + s : s + fill
    }

    /// Escapes text for HTML element content and attribute values (`&`, `<`, `>`, `"`, `'`).
    static func html(_ s: String) -> String { HTMLEscaping.escape(s) }
}
