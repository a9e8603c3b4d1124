import Foundation
import MarginBacktest
import MarginCore

extension CascadeResult {
    /// The policies in the report's order: the product first, then the comparisons.
    var orderedPolicies: [(name: String, result: CascadePolicyResult)] {
        CascadePolicy.allCases.compactMap { policy in policies[policy.rawValue].map { (policy.rawValue, $0) } }
    }

    /// A self-contained page (no script, nothing loaded): the measures of every policy side by
    /// side, then per policy the index path, exogenous against realised, with the liquidated
    /// notional per step, in inline SVG.
    public func html() -> String {
        let e = HTMLEscaping.escape
        var out = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Liquidation cascade</title>
        <style>\(ReportStyle.css)
        svg.chart rect.bar { fill: #f59e0b; opacity: 0.75; }
        </style></head><body>
        <h1>Liquidation cascade: \(e(scenario))</h1>
        <p class="note">\(e(scenarioDescription)). \(accounts) demo accounts, seed \(seed), insurance fund \
        \(Self.money(insuranceFund)), \(Self.number(stepSeconds)) s steps, book half-life \(Self.number(bookHalfLifeSeconds)) s.</p>
        <h2>Measures</h2>
        <table><tr><th class="text">measure</th>
        """
        for (name, _) in orderedPolicies { out += "<th>\(e(name))</th>" }
        out += "</tr>\n"
        for (label, value) in Self.rows {
            out += "<tr><td class=\"text\">\(e(label))</td>"
            for (_, result) in orderedPolicies { out += "<td>\(e(value(result)))</td>" }
            out += "</tr>\n"
        }
        out += "</table>\n"
        for (name, result) in orderedPolicies {
            out += "<h2>Policy \(e(name))</h2>\n"
            out += Self.chart(title: "\(name): index, exogenous and realised, with liquidated notional per step", steps: result.steps)
        }
        out += "</body></html>\n"
        return out
    }

    static let rows: [(String, @Sendable (CascadePolicyResult) -> String)] = [
        ("waves", { "\($0.waves)" }),
        ("liquidated notional", { money($0.liquidatedNotional) }),
        ("endogenous impact", { String(format: "%.2f %%", $0.endogenousImpactPercent) }),
        ("accounts triggered by fills", { "\($0.endogenousLiquidations)" }),
        ("cascade ratio", { String(format: "%.3f", $0.cascadeRatio) }),
        ("  at the opening", { String(format: "%.3f", $0.cascadeRatioOpening) }),
        ("  where depth is thinnest", { String(format: "%.3f", $0.cascadeRatioStressed) }),
        ("bankrupt accounts", { "\($0.bankruptAccounts)" }),
        ("bad debt", { money($0.badDebt) }),
        ("insurance fund used", { money($0.insuranceFundUsed) }),
        ("insurance fund income", { money($0.insuranceFundIncome) }),
        ("ADL notional", { money($0.adlNotional) }),
        ("liquidated accounts", { "\($0.liquidatedAccounts)" }),
        ("liquidated here, survived there", { "\($0.liquidatedHereSurvivedThere) (vs \($0.comparedWith))" }),
        ("survived here, liquidated there", { "\($0.survivedHereLiquidatedThere) (vs \($0.comparedWith))" }),
    ]

    static func money(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude >= 1e9 { return String(format: "$%.2f bn", value / 1e9) }
        if magnitude >= 1e6 { return String(format: "$%.2f M", value / 1e6) }
        if magnitude >= 1e3 { return String(format: "$%.1f k", value / 1e3) }
        return String(format: "$%.0f", value)
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(format: "%.0f", value) : String(format: "%.1f", value)
    }

    /// Lines of the index (exogenous dashed grey, realised blue) over time, bars of the liquidated
    /// notional per step along the bottom third on their own scale; below, the endogenous impact
    /// (realised ÷ exogenous − 1, basis points) per step.
    static func chart(title: String, steps: [CascadeStep]) -> String {
        let width = 1000.0, left = 64.0, right = 150.0, top = 16.0
        let priceHeight = 250.0, gap = 40.0, impactHeight = 90.0, bottom = 36.0
        let height = top + priceHeight + gap + impactHeight + bottom
        let plotWidth = width - left - right
        let end = max(steps.last?.seconds ?? 1, 1)
        let prices = steps.flatMap { [$0.exogenousIndex, $0.realisedIndex] }.filter { $0 > 0 }
        var low = prices.min() ?? 0, high = prices.max() ?? 1
        if high - low < 1e-9 * max(1, high) { low -= 1; high += 1 }
        let pad = 0.05 * (high - low)
        low -= pad
        high += pad
        let volume = max(steps.map(\.liquidatedNotional).max() ?? 0, 1)
        let impacts = steps.map { $0.exogenousIndex > 0 ? 10_000 * ($0.realisedIndex / $0.exogenousIndex - 1) : 0 }
        let impactLow = min(impacts.min() ?? 0, -1), impactHigh = max(impacts.max() ?? 0, 0)
        let impactTop = top + priceHeight + gap
        func x(_ seconds: Double) -> Double { left + plotWidth * seconds / end }
        func y(_ price: Double) -> Double { top + priceHeight * (1 - (price - low) / (high - low)) }
        func yImpact(_ bp: Double) -> Double { impactTop + impactHeight * (impactHigh - bp) / (impactHigh - impactLow) }
        func text(_ x: Double, _ y: Double, _ content: String, anchor: String = "start", cls: String = "") -> String {
            String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"", x, y) + anchor + "\"" + (cls.isEmpty ? "" : " class=\"\(cls)\"")
                + ">" + HTMLEscaping.escape(content) + "</text>"
        }
        func line(_ x1: Double, _ x2: Double, _ y1: Double, _ y2: Double, cls: String) -> String {
            String(format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" ", x1, x2, y1, y2) + "class=\"\(cls)\"/>"
        }
        var svg = "<svg class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\"><title>\(HTMLEscaping.escape(title))</title>\n"
        for tick in 0...4 {
            let price = low + (high - low) * Double(tick) / 4
            svg += line(left, left + plotWidth, y(price), y(price), cls: "grid") + text(left - 6, y(price), String(format: "%.0f", price), anchor: "end", cls: "ylabel") + "\n"
        }
        for bp in Set([impactLow, 0, impactHigh]).sorted() {
            svg += line(left, left + plotWidth, yImpact(bp), yImpact(bp), cls: bp == 0 ? "zero" : "grid")
                + text(left - 6, yImpact(bp), String(format: "%.1f bp", bp), anchor: "end", cls: "ylabel") + "\n"
        }
        for tick in 0...5 {
            let seconds = end * Double(tick) / 5
            svg += text(x(seconds), height - 12, String(format: "%.0f min", seconds / 60), anchor: "middle")
        }
        let barWidth = max(1, plotWidth / Double(max(steps.count, 1)) * 0.8)
        for step in steps where step.liquidatedNotional > 0 {
            let h = priceHeight / 3 * step.liquidatedNotional / volume
            svg += String(format: "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
                          x(step.seconds) - barWidth / 2, top + priceHeight - h, barWidth, h)
        }
        let keyX = left + plotWidth + 8
        svg += text(keyX, top + priceHeight - 4, "bars: liquidated,") + text(keyX, top + priceHeight + 10, "up to \(money(volume))/step") + "\n"
        let series: [(String, [Double], String, Bool, (Double) -> Double)] = [
            ("exogenous index", steps.map(\.exogenousIndex), "#6b7280", true, y),
            ("realised index", steps.map(\.realisedIndex), "#2563eb", false, y),
            ("endogenous impact", impacts, "#dc2626", false, yImpact),
        ]
        for (index, (label, values, color, dashed, scale)) in series.enumerated() {
            let points = zip(steps, values).map { String(format: "%.1f,%.1f", x($0.0.seconds), scale($0.1)) }.joined(separator: " L")
            svg += "<path class=\"series\" d=\"M\(points)\" stroke=\"\(color)\"\(dashed ? " stroke-dasharray=\"5 4\"" : "")/>\n"
            let keyY = index < 2 ? top + 12 + 16 * Double(index) : impactTop + 12
            svg += String(format: "<line class=\"key\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" ", keyX, keyX + 16, keyY, keyY)
                + "stroke=\"\(color)\"\(dashed ? " stroke-dasharray=\"5 4\"" : "")/>" + text(keyX + 20, keyY + 4, label) + "\n"
        }
        svg += line(left, left + plotWidth, top + priceHeight, top + priceHeight, cls: "axis")
        return svg + "</svg>\n"
    }

    /// The JSON contract: sorted keys, every number finite.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try encoder.encode(self)
    }

    /// The plain table the command prints.
    public func summaryTable() -> String {
        let columns = orderedPolicies
        var out = "cascade \(scenario): \(scenarioDescription)\n\(accounts) accounts, seed \(seed), insurance fund \(Self.money(insuranceFund))\n"
        out += "measure".padding(toLength: 36, withPad: " ", startingAt: 0)
        for (name, _) in columns { out += name.padding(toLength: 20, withPad: " ", startingAt: 0) }
        out += "\n"
        for (label, value) in Self.rows {
            out += label.padding(toLength: 36, withPad: " ", startingAt: 0)
            for (_, result) in columns { out += value(result).padding(toLength: 20, withPad: " ", startingAt: 0) }
            out += "\n"
        }
        return out
    }
}
