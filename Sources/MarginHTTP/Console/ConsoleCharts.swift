import MarginCore
import MarginEngineCore

/// Inline SVG charts of the console (no script: everything is drawn on the server).
enum ConsoleCharts {
    static let healthColors: [HealthState: String] = [
        .healthy: "#2e8b57", .belowInitial: "#c98a00", .liquidatable: "#d2452b", .bankrupt: "#7b1d1d", .stale: "#6b5bb5",
    ]

    /// Horizontal bars: accounts per health state.
    static func health(_ counts: [HealthState: Int]) -> String {
        let states = HealthState.allCases
        let maximum = max(1, states.map { counts[$0] ?? 0 }.max() ?? 1)
        let width = 420.0, label = 90.0, bar = 22.0, gap = 6.0
        let height = Double(states.count) * (bar + gap) + gap
        var svg = "<svg class=\"chart\" id=\"health-chart\" role=\"img\" aria-label=\"accounts per health state\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">"
        for (i, state) in states.enumerated() {
            let count = counts[state] ?? 0
            let y = gap + Double(i) * (bar + gap)
            let length = (width - label - 60) * Double(count) / Double(maximum)
            svg += "<text x=\"0\" y=\"\(format(y + bar * 0.7))\">\(state.rawValue)</text>"
            svg += "<rect class=\"bar \(state.rawValue)\" x=\"\(Int(label))\" y=\"\(format(y))\" width=\"\(format(max(length, count > 0 ? 2 : 0)))\" height=\"\(Int(bar))\" fill=\"\(healthColors[state] ?? "#999")\"><title>\(state.rawValue): \(count)</title></rect>"
            svg += "<text x=\"\(format(label + length + 6))\" y=\"\(format(y + bar * 0.7))\">\(count)</text>"
        }
        return svg + "</svg>"
    }

    /// Vertical bars: the unit's PnL under every grid scenario (losses down), the basis
    /// contingency as a last bar when it is not zero, and the binding one marked.
    static func scenarios(_ unit: RiskUnitMargin, labels: [String]) -> String {
        var bars: [(label: String, pnl: Double, binding: Bool)] = unit.scenarioPnLs.enumerated().map { index, pnl in
            (index < labels.count ? labels[index] : "scenario \(index)", pnl, unit.bindingScenario == index)
        }
        let basisBinds = unit.bindingScenario == nil && unit.worstLoss > 0
        if unit.basisContingency != 0 || basisBinds {
            bars.append(("basis contingency", unit.basisContingency, basisBinds))
        }
        let top = 24.0, bottom = 20.0, left = 70.0, plot = 200.0
        let step = min(28, max(8, 880 / Double(max(bars.count, 1))))
        let width = left + Double(max(bars.count, 1)) * step + 20
        let height = top + plot + bottom
        let high = max(bars.map(\.pnl).max() ?? 0, 0), low = min(bars.map(\.pnl).min() ?? 0, 0)
        let span = max(high - low, 1e-9)
        func y(_ value: Double) -> Double { top + (high - value) / span * plot }
        let zero = y(0)
        let id = ConsoleHTML.escape(unit.underlying)
        var svg = "<svg class=\"chart scenario-chart\" id=\"scenarios-\(id)\" role=\"img\" aria-label=\"scenario PnLs of \(id)\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">"
        svg += "<text x=\"0\" y=\"\(format(y(high) + 4))\">\(ConsoleHTML.amount(high, decimals: 0))</text>"
        svg += "<text x=\"0\" y=\"\(format(y(low) + 4))\">\(ConsoleHTML.amount(low, decimals: 0))</text>"
        svg += "<line x1=\"\(Int(left))\" x2=\"\(format(width - 10))\" y1=\"\(format(zero))\" y2=\"\(format(zero))\" stroke=\"#4a5262\"/>"
        for (i, bar) in bars.enumerated() {
            let x = left + Double(i) * step + 2
            let barTop = min(y(bar.pnl), zero), length = max(abs(y(bar.pnl) - zero), 1)
            let fill = bar.binding ? "#d2452b" : (bar.pnl < 0 ? "#e8a598" : "#9cc7a8")
            let label = ConsoleHTML.escape(bar.label)
            svg += "<rect class=\"bar\(bar.binding ? " binding" : "")\" x=\"\(format(x))\" y=\"\(format(barTop))\" width=\"\(format(step - 4))\" height=\"\(format(length))\" fill=\"\(fill)\"\(bar.binding ? " stroke=\"#1d2330\" stroke-width=\"1.5\"" : "")><title>\(label): \(ConsoleHTML.amount(bar.pnl))</title></rect>"
            if bar.binding {
                let anchor = x + (step - 4) / 2
                let half = (Double(bar.label.count) + 9) * 3.2 // about half the label's width at 11 px
                svg += "<text class=\"binding-label\" x=\"\(format(min(max(anchor, left + half), width - half)))\" y=\"14\" text-anchor=\"middle\">binding: \(label)</text>"
                svg += "<line x1=\"\(format(anchor))\" x2=\"\(format(anchor))\" y1=\"18\" y2=\"\(format(barTop))\" stroke=\"#d2452b\" stroke-dasharray=\"3 2\"/>"
            }
        }
        svg += "<text x=\"\(Int(left))\" y=\"\(format(height - 4))\" class=\"muted\">\(bars.count) scenarios (losses below the line)</text>"
        return svg + "</svg>"
    }

    static func format(_ value: Double) -> String {
        value.isFinite ? String((value * 10).rounded() / 10) : "0"
    }
}
