import Foundation
import MarginCore
import MarginEngineCore

/// Small helpers of the console's server-rendered pages: escaping, number and time formatting,
/// and the page shell (inline CSS only: no script, no external asset).
enum ConsoleHTML {
    /// Escapes text for element content and double-quoted attributes.
    static func escape(_ text: String) -> String { HTMLEscaping.escape(text) }

    /// A path segment, percent-encoded (`acct x/1` → `acct%20x%2F1`), for links to `/accounts/{id}`.
    static func pathSegment(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// `1234567.891` → `1,234,567.89`; non-finite values as `∞`, `−∞`, `n/a`.
    static func amount(_ value: Double, decimals: Int = 2) -> String {
        guard value.isFinite else { return value.isNaN ? "n/a" : (value > 0 ? "∞" : "−∞") }
        let text = String(format: "%.\(decimals)f", abs(value))
        let parts = text.split(separator: ".", maxSplits: 1)
        var integer = ""
        for (i, digit) in parts[0].reversed().enumerated() {
            if i > 0 && i % 3 == 0 { integer.append(",") }
            integer.append(digit)
        }
        let sign = value < 0 && text.contains(where: { $0 != "0" && $0 != "." }) ? "−" : ""
        return sign + String(integer.reversed()) + (parts.count > 1 ? "." + parts[1] : "")
    }

    /// A duration in milliseconds: `0.012` → `12 µs`, `3.5` → `3.50 ms`, `1250` → `1.25 s`.
    static func milliseconds(_ value: Double) -> String {
        if value < 1 { return amount(value * 1_000, decimals: 0) + " µs" }
        if value < 1_000 { return amount(value, decimals: 2) + " ms" }
        return amount(value / 1_000, decimals: 2) + " s"
    }

    /// A fraction as a percentage with one decimal: `0.153` → `15.3 %`.
    static func percent(_ value: Double) -> String {
        value.isFinite ? amount(value * 100, decimals: 1) + " %" : amount(value)
    }

    /// Unix ms as UTC `2024-05-14 08:00:00Z`.
    static func time(_ ms: Int64) -> String {
        let date = Date(timeIntervalSince1970: Double(ms) / 1000)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withSpaceBetweenDateAndTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date) + "Z"
    }

    /// Unix ms as `17:58:22Z`, the full UTC date and time on hover.
    static func clock(_ ms: Int64) -> String {
        let full = time(ms)
        return "<span title=\"\(full)\">\(full.split(separator: " ").last.map(String.init) ?? full)</span>"
    }

    /// A duration in ms as `850 ms`, `12.3 s`, `4 min 5 s`, `2 h 3 min`.
    static func age(_ ms: Int64) -> String {
        if abs(ms) < 1_000 { return "\(ms) ms" }
        if abs(ms) < 60_000 { return amount(Double(ms) / 1000, decimals: 1) + " s" }
        let seconds = ms / 1000
        if abs(seconds) < 3_600 { return "\(seconds / 60) min \(seconds % 60) s" }
        return "\(seconds / 3_600) h \((seconds % 3_600) / 60) min"
    }

    /// A `<span>` badge for a health state or a flag, coloured by its CSS class.
    static func badge(_ text: String, kind: String) -> String {
        "<span class=\"badge \(escape(kind))\">\(escape(text))</span>"
    }

    /// A table: header cells, then rows of already-rendered cells (numeric columns right-aligned
    /// by the `num` class when `numeric` says so).
    static func table(_ headers: [String], numeric: Set<Int> = [], rows: [[String]], id: String? = nil, empty: String = "none") -> String {
        let idAttribute = id.map { " id=\"\(escape($0))\"" } ?? ""
        var html = "<table\(idAttribute)><thead><tr>"
        for (i, header) in headers.enumerated() {
            html += "<th\(numeric.contains(i) ? " class=\"num\"" : "")>\(escape(header))</th>"
        }
        html += "</tr></thead><tbody>"
        if rows.isEmpty {
            html += "<tr><td colspan=\"\(headers.count)\" class=\"empty\">\(escape(empty))</td></tr>"
        }
        for row in rows {
            html += "<tr>"
            for (i, cell) in row.enumerated() { html += "<td\(numeric.contains(i) ? " class=\"num\"" : "")>\(cell)</td>" }
            html += "</tr>"
        }
        return html + "</tbody></table>"
    }

    /// The whole page around `body`.
    static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title><style>\(style)</style></head>
        <body><header><a href="/">Risk console</a></header><main>\(body)</main></body></html>
        """
    }

    static let style = """
    body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
    header{background:#1d2330;padding:10px 24px}header a{color:#fff;font-weight:600;text-decoration:none}
    main{padding:16px 24px;max-width:1240px}h1{font-size:20px;margin:8px 0}h2{font-size:16px;margin:22px 0 8px}
    h3{font-size:14px;margin:16px 0 6px}section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:12px 16px;margin:12px 0}
    table{border-collapse:collapse;width:100%}th,td{padding:4px 8px;border-bottom:1px solid #eceff3;text-align:left;white-space:nowrap}
    th{font-weight:600;color:#4a5262;background:#fafbfc}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
    td.empty{color:#7a8291;font-style:italic}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:0 12px}section{overflow-x:auto}
    .facts{display:flex;flex-wrap:wrap;gap:8px 24px}.facts div{min-width:120px}.facts b{display:block;font-size:18px}
    .badge{display:inline-block;padding:1px 7px;border-radius:9px;font-size:12px;font-weight:600;color:#fff;background:#7a8291}
    .healthy{background:#2e8b57}.below_im{background:#c98a00}.liquidatable{background:#d2452b}.bankrupt{background:#7b1d1d}
    .stale{background:#6b5bb5}.ok{background:#2e8b57}.warn{background:#c98a00}.bad{background:#d2452b}
    a{color:#1f5fbf}svg text{font:11px system-ui,sans-serif;fill:#1d2330}.muted{color:#7a8291}
    """
}
