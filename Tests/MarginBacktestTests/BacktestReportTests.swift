import Testing
@testable import MarginBacktest

@Suite struct BacktestReportTests {
    static func result(portfolios: Int, days: Int, measures: [BacktestSeries.Measure] = [.im, .fhs],
                       name: (Int) -> String = { "portfolio \($0)" }) -> BacktestResult {
        var series = [BacktestSeries]()
        for p in 0..<portfolios {
            for (m, measure) in measures.enumerated() {
                series.append(SyntheticSeries.make(portfolio: name(p), measure: measure, days: days,
                                                   seed: UInt64(10 * p + m), breachRate: 0.01 + 0.01 * Double(m),
                                                   withoutAPC: measure == .im && p % 2 == 0))
            }
        }
        return BacktestResult(confidence: 0.99, horizonDays: 10, from: series.first?.dates.first ?? "",
                              to: series.first?.dates.last ?? "", volatilityModel: "EWMA λ = 0.94 <b>", series: series)
    }

    static func occurrences(of needle: String, in text: String) -> Int {
        text.split(separator: needle, omittingEmptySubsequences: false).count - 1
    }

    @Test func summaryTableIsAligned() {
        let table = Self.result(portfolios: 2, days: 250, name: { $0 == 0 ? "short" : "a much longer name" }).summaryTable()
        let lines = table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0].hasPrefix("Backtest 2015-01-01"))
        #expect(lines[2].hasPrefix("Portfolio") && lines[2].contains("Kupiec p") && lines[2].hasSuffix("Max +5d %"))
        let rows = lines.dropFirst(4).dropLast()
        #expect(rows.count == 4 && lines.last == "")
        // Every row has its zone word starting in the same column as the header's "Zone".
        let header = Array(lines[2])
        let zoneColumn = (0..<(header.count - 3)).first { String(header[$0..<($0 + 4)]) == "Zone" } ?? 0
        for row in rows {
            let zone = String(row.dropFirst(zoneColumn).prefix { $0 != " " })
            #expect(["green", "yellow", "red"].contains(zone), "\(row)")
        }
        #expect(rows.first?.hasPrefix("short" + String(repeating: " ", count: 15) + "IM ") == true)
        #expect(lines[2].hasPrefix("Portfolio" + String(repeating: " ", count: 11) + "Measure"))
    }

    @Test func htmlHasOneChartPerExpectedPlot() {
        let result = Self.result(portfolios: 3, days: 400)
        let html = result.html()
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<title>Margin backtest</title>"))
        // Per portfolio: margin vs loss, timeline, plus APC for portfolios 0 and 2.
        #expect(Self.occurrences(of: "<svg class=\"chart\"", in: html) == 3 * 2 + 2)
        #expect(Self.occurrences(of: "<svg class=\"chart\"", in: html) == Self.occurrences(of: "</svg>", in: html))
        #expect(Self.occurrences(of: "<section id=\"portfolio-", in: html) == 3)
        #expect(html.contains("class=\"exc\""))
        #expect(html.contains("EWMA λ = 0.94 &lt;b&gt;"))
        // Decoded results have no series: tables only.
        var bare = result
        bare.series = []
        #expect(!bare.html().contains("<svg"))
    }

    @Test func htmlEscapesNamesAndLoadsNothing() {
        let html = Self.result(portfolios: 1, days: 100, name: { _ in "<script>alert('x')</script> & co" }).html()
        #expect(!html.contains("<script"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co"))
        let withoutNamespace = html.replacing("xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        #expect(!withoutNamespace.contains("http"))
        #expect(!html.contains("src=") && !html.contains("<link"))
    }

    @Test func htmlOfDegenerateSeriesHasNoNonFiniteNumbers() {
        let series = [
            BacktestSeries(portfolio: "empty", measure: .im, dates: [], margin: [], realisedLoss: []),
            BacktestSeries(portfolio: "one day", measure: .im, dates: ["2020-01-01"], margin: [1], realisedLoss: [2]),
            BacktestSeries(portfolio: "no data", measure: .mm, dates: ["2020-01-01", "2020-01-02"], margin: [.nan, .nan],
                           marginWithoutAPC: [.infinity, 0], realisedLoss: [.nan, .nan]),
            BacktestSeries(portfolio: "flat", measure: .grid, dates: SyntheticSeries.dates(4), margin: [0, 0, 0, 0],
                           realisedLoss: [0, 0, 0, 0]),
        ]
        let html = BacktestResult(confidence: 0.975, horizonDays: 1, from: "2020-01-01", to: "2020-01-04",
                                  volatilityModel: "", series: series).html()
        // The style sheet has "dominant-baseline": look at the body only.
        let body = String(html[(html.firstRange(of: "<body>")?.upperBound ?? html.startIndex)...])
        for bad in ["nan", "NaN", "inf"] { #expect(!body.contains(bad), "\(bad)") }
        // "empty" has no days: no chart; the others have a margin chart and a timeline; "no data" also APC.
        #expect(Self.occurrences(of: "<svg class=\"chart\"", in: html) == 3 * 2 + 1)
    }

    @Test func htmlStaysSmallForLongSeries() {
        let html = Self.result(portfolios: 10, days: 3000).html()
        #expect(Self.occurrences(of: "<svg class=\"chart\"", in: html) == 10 * 2 + 5)
        #expect(html.utf8.count < 2_000_000, "\(html.utf8.count) bytes")
    }

    @Test func minMaxDownsamplingKeepsExtremesInOrder() {
        let values = (0..<10_000).map { i in i == 4321 ? 1e6 : i == 7777 ? -1e6 : Double(i % 7) }
        let points = ChartGeometry.minMax(values, buckets: 100).compactMap { $0 }
        #expect(points.count <= 200)
        #expect(points.contains { $0.index == 4321 && $0.value == 1e6 })
        #expect(points.contains { $0.index == 7777 && $0.value == -1e6 })
        #expect(zip(points, points.dropFirst()).allSatisfy { $0.index < $1.index })
        let short = ChartGeometry.minMax([1, .nan, 3], buckets: 100)
        #expect(short.count == 3 && short[1] == nil)
        #expect(ChartGeometry.path(short, count: 3, y: { $0 }) == "M64 1h0M944 3h0")
    }

    @Test func formatting() {
        #expect(TextFormatting.fixed(0.49694, 3) == "0.497")
        #expect(TextFormatting.fixed(-0.00001, 2) == "0.00")
        #expect(TextFormatting.fixed(-2.5, 0) == "-3")
        #expect(TextFormatting.fixed(.nan, 2) == "–")
        #expect(TextFormatting.percent(0.98934, 2) == "98.93 %")
        #expect(TextFormatting.pValue(1e-9) == "< 0.0001")
        #expect(TextFormatting.compact(1_250_000) == "1.25M")
        #expect(TextFormatting.compact(-20_000) == "-20k")
        #expect(TextFormatting.compact(0) == "0")
        #expect(TextFormatting.compact(2.5) == "2.5")
        #expect(ChartGeometry.niceTicks(0, 1_040_000) == [0, 250_000, 500_000, 750_000, 1_000_000, 1_250_000])
        #expect(ChartGeometry.dateTickIndices(count: 3000) == [0, 600, 1200, 1799, 2399, 2999])
    }
}
