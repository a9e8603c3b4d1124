/// Presentation constants of the HTML report: the inline style sheet and measure colours.
package enum ReportStyle {
    /// The page's whole style sheet (inlined in `<style>`; the page loads nothing).
    package static let css = """
    body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111827;
           margin: 0 auto; padding: 24px; max-width: 1100px; background: #fff; }
    h1 { font-size: 24px; margin: 0 0 8px; }
    h2 { font-size: 19px; margin: 36px 0 8px; padding-top: 12px; border-top: 2px solid #e5e7eb; }
    h3 { font-size: 15px; margin: 18px 0 6px; color: #374151; }
    dl.params { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
    dl.params dt { color: #6b7280; } dl.params dd { margin: 0; }
    pre.model { white-space: pre-wrap; background: #f9fafb; border: 1px solid #e5e7eb; padding: 8px;
                font-size: 13px; margin: 4px 0 16px; }
    table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; display: block; max-width: 100%; overflow-x: auto; }
    th, td { padding: 3px 9px; border-bottom: 1px solid #e5e7eb; text-align: right; white-space: nowrap; }
    th { background: #f3f4f6; font-weight: 600; }
    th:first-child, td:first-child, th.text, td.text { text-align: left; }
    .zone { display: inline-block; min-width: 52px; text-align: center; border-radius: 9px;
            padding: 0 8px; font-weight: 600; }
    .zone-green { background: #dcfce7; color: #166534; }
    .zone-yellow { background: #fef9c3; color: #854d0e; }
    .zone-red { background: #fee2e2; color: #991b1b; }
    .note { color: #6b7280; font-size: 13px; }
    svg.chart { display: block; width: 100%; height: auto; margin: 4px 0 10px; }
    svg.chart text { font: 11px system-ui, sans-serif; fill: #374151; }
    svg.chart text.ylabel { text-anchor: end; dominant-baseline: middle; }
    svg.chart line.grid { stroke: #e5e7eb; stroke-width: 1; }
    svg.chart line.zero { stroke: #9ca3af; stroke-width: 1; }
    svg.chart line.axis { stroke: #6b7280; stroke-width: 1; }
    svg.chart line.key { stroke-width: 2.5; }
    svg.chart path.series { fill: none; stroke-width: 1.3; stroke-linejoin: round; stroke-linecap: round; }
    svg.chart line.tick { stroke: #dc2626; stroke-width: 1.5; }
    svg.chart circle.exc { fill: #dc2626; stroke: #fff; stroke-width: 0.8; }
    svg.chart circle.exc-other { fill: #fff; stroke: #dc2626; stroke-width: 1.3; }
    """

    /// Line colour of each margin measure.
    static func color(_ measure: BacktestSeries.Measure) -> String {
        switch measure {
        case .im: return "#2563eb"
        case .mm: return "#7c3aed"
        case .fhs: return "#059669"
        case .grid: return "#d97706"
        }
    }

    /// Colour of the realised-loss line.
    static let lossColor = "#9ca3af"
    /// The static baseline's margin.
    static let staticColor = "#7c3aed"

    /// Display name of a measure: `IM`, `MM`, `FHS`, `Grid`.
    static func name(_ measure: BacktestSeries.Measure) -> String {
        measure == .grid ? "Grid" : measure.rawValue.uppercased()
    }

    /// Display order of the measures.
    static func order(_ measure: BacktestSeries.Measure) -> Int {
        BacktestSeries.Measure.allCases.firstIndex(of: measure) ?? 0
    }
}
