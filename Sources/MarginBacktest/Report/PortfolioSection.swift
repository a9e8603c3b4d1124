/// One portfolio's part of the HTML report: its statistics per measure and, when the run kept
/// them, its series (which share the portfolio's dates and realised losses).
struct PortfolioSection {
    var name: String
    var backtests: [PortfolioBacktest]
    var series: [BacktestSeries]
    /// The static baseline's statistics and series for this portfolio, when the run has one.
    var baselineBacktests: [PortfolioBacktest] = []
    var baselineSeries: [BacktestSeries] = []

    /// The portfolios of `result` in the order they first appear, measures in display order.
    static func sections(of result: BacktestResult) -> [PortfolioSection] {
        var order = [String]()
        var byName = [String: PortfolioSection]()
        func section(_ name: String) -> PortfolioSection {
            if byName[name] == nil { order.append(name) }
            return byName[name] ?? PortfolioSection(name: name, backtests: [], series: [])
        }
        for backtest in result.portfolios {
            var s = section(backtest.name)
            s.backtests.append(backtest)
            byName[backtest.name] = s
        }
        for series in result.series {
            var s = section(series.portfolio)
            s.series.append(series)
            byName[series.portfolio] = s
        }
        for backtest in result.baseline?.portfolios ?? [] where byName[backtest.name] != nil && backtest.measure == .im {
            byName[backtest.name]?.baselineBacktests.append(backtest)
        }
        for series in result.baseline?.series ?? [] where byName[series.portfolio] != nil && series.measure == .im {
            byName[series.portfolio]?.baselineSeries.append(series)
        }
        return order.compactMap { byName[$0] }.map { s in
            var s = s
            s.backtests.sort { ReportStyle.order($0.measure) < ReportStyle.order($1.measure) }
            s.series.sort { ReportStyle.order($0.measure) < ReportStyle.order($1.measure) }
            return s
        }
    }

    /// The series whose dates and realised losses the charts use: IM when present.
    var primary: BacktestSeries? {
        series.first { $0.measure == .im } ?? series.first
    }

    /// Charts (a) margin against realised loss, (b) exception timeline, (c) with and without APC.
    func charts() -> [String] {
        guard let primary, !primary.dates.isEmpty else { return [] }
        let dates = primary.dates
        func aligned(_ values: [Double]) -> [Double] {
            (0..<dates.count).map { $0 < values.count ? values[$0] : .nan }
        }
        let loss = aligned(primary.realisedLoss)
        let breached: [[Bool]] = series.map { s in
            let margin = aligned(s.margin)
            return (0..<dates.count).map { loss[$0].isFinite && margin[$0].isFinite && loss[$0] > margin[$0] }
        }
        var markers = [SVGLineChart.Marker]()
        for day in 0..<dates.count {
            let measures = series.indices.filter { breached[$0][day] }
            guard !measures.isEmpty else { continue }
            let detail = measures.map { "\(ReportStyle.name(series[$0].measure)) \(TextFormatting.compact(aligned(series[$0].margin)[day]))" }
            markers.append(.init(index: day, value: loss[day], filled: measures.contains { series[$0].measure == primary.measure },
                                 label: "\(dates[day]): loss \(TextFormatting.compact(loss[day])) > " + detail.joined(separator: ", ")))
        }
        var legend: [(filled: Bool, label: String)] = [(true, "exception (\(ReportStyle.name(primary.measure)))")]
        if markers.contains(where: { !$0.filled }) { legend.append((false, "exception (other measure only)")) }
        let lines = [SVGLineChart.Line(label: "realised loss", color: ReportStyle.lossColor, values: loss)]
            + series.map { .init(label: "\(ReportStyle.name($0.measure)) margin", color: ReportStyle.color($0.measure), values: aligned($0.margin)) }
        var charts = [
            SVGLineChart(title: "\(name): margin against realised loss", dates: dates, lines: lines,
                         markers: markers, markerLegend: legend).render(),
            SVGTimeline(title: "\(name): exceptions over time", dates: dates,
                        rows: series.indices.map { .init(label: ReportStyle.name(series[$0].measure), exceptions: breached[$0]) }).render(),
        ]
        if let dynamic = series.first(where: { $0.measure == .im }), let statics = baselineSeries.first {
            let staticMargin = aligned(statics.margin)
            let staticMarkers = (0..<dates.count).filter { loss[$0].isFinite && staticMargin[$0].isFinite && loss[$0] > staticMargin[$0] }.map {
                SVGLineChart.Marker(index: $0, value: loss[$0], filled: false,
                                    label: "\(dates[$0]): loss \(TextFormatting.compact(loss[$0])) > static IM \(TextFormatting.compact(staticMargin[$0]))")
            }
            charts.append(SVGLineChart(
                title: "\(name): dynamic IM and static IM against realised loss", dates: dates,
                lines: [.init(label: "realised loss", color: ReportStyle.lossColor, values: loss),
                        .init(label: "dynamic IM", color: ReportStyle.color(.im), values: aligned(dynamic.margin)),
                        .init(label: "static IM", color: ReportStyle.staticColor, values: staticMargin, dashed: true)],
                markers: staticMarkers, markerLegend: staticMarkers.isEmpty ? [] : [(false, "static IM exception")], height: 260).render())
        }
        let withoutAPC = series.filter { $0.marginWithoutAPC != nil }
        if !withoutAPC.isEmpty {
            let apcLines = withoutAPC.flatMap { s -> [SVGLineChart.Line] in
                [.init(label: "\(ReportStyle.name(s.measure)) with APC", color: ReportStyle.color(s.measure), values: aligned(s.margin)),
                 .init(label: "\(ReportStyle.name(s.measure)) without APC", color: ReportStyle.color(s.measure),
                       values: aligned(s.marginWithoutAPC ?? []), dashed: true)]
            }
            charts.append(SVGLineChart(title: "\(name): margin with and without anti-procyclicality measures",
                                       dates: dates, lines: apcLines, height: 260).render())
        }
        return charts
    }
}
