import Foundation

extension BacktestResult {
    /// The report as one self-contained HTML page: inline CSS and inline SVG, no script and no
    /// external resource, so it opens offline and can be archived as a single file.
    ///
    /// Layout: the run parameters and the volatility-model text, a summary table (portfolio ×
    /// measure), then per portfolio (a) its margins against the realised loss with exceptions as
    /// red dots, (b) an exception timeline, (c) the margin with and without anti-procyclicality
    /// measures when the run computed it, and (d) its statistics tables. Charts (a)–(c) need
    /// `series`; a result decoded from JSON has none and shows the tables only.
    ///
    /// Every chart is an `<svg class="chart">` with a `<title>`. Long series are downsampled to
    /// the minimum and maximum per pixel column (~880 columns), so the page grows with the number
    /// of series, not with their length (about 60 kB per portfolio and measure). All text from the
    /// data (portfolio names, dates, the model description) is HTML-escaped.
    public func html() -> String {
        let e = TextFormatting.html
        let sections = PortfolioSection.sections(of: self)
        var page = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Margin backtest</title>
        <style>
        \(ReportStyle.css)
        </style>
        </head>
        <body>
        <h1>Margin backtest</h1>
        <dl class="params">
        <dt>Period</dt><dd>\(e(from)) – \(e(to))</dd>
        <dt>Confidence</dt><dd>\(TextFormatting.percent(confidence, 2)) (expected exception rate \(TextFormatting.percent(1 - confidence, 2)))</dd>
        <dt>Horizon</dt><dd>\(horizonDays) day\(horizonDays == 1 ? "" : "s")</dd>
        <dt>Portfolios</dt><dd>\(sections.count) (\(portfolios.count) series)</dd>
        </dl>
        <h3>Volatility model</h3>
        <pre class="model">\(e(volatilityModel))</pre>
        <h2 id="summary">Summary</h2>
        <p class="note">An exception is a day whose realised \(horizonDays)-day loss exceeds that day’s margin. \
        Kupiec tests the exception rate, Christoffersen (cc) the rate and independence together; \
        small p-values reject the model. Traffic light per BCBS (1996).</p>

        """
        page += summaryHTML(sections)
        if let baseline {
            page += "<p class=\"note\">Static baseline: \(e(baseline.params.id)) v\(baseline.params.version) as shipped "
                + "(no calibration, no historical simulation) on the same portfolios and days.</p>\n"
        }
        for (number, section) in sections.enumerated() {
            page += "<section id=\"portfolio-\(number + 1)\">\n<h2>\(e(section.name))</h2>\n"
            let charts = section.charts()
            if charts.isEmpty { page += "<p class=\"note\">No daily series in this result: statistics only.</p>\n" }
            page += charts.joined()
            page += statisticsHTML(section.backtests, baseline: section.baselineBacktests)
            page += "</section>\n"
        }
        page += volatilityModelsHTML()
        return page + "</body>\n</html>\n"
    }

    /// `--vol-models`: each model's forecast loss per underlying and its IM figures per portfolio.
    private func volatilityModelsHTML() -> String {
        guard let comparisons = volatilityModels, !comparisons.isEmpty else { return "" }
        let f = TextFormatting.fixed
        let underlyings = Array(Set(comparisons.flatMap { $0.forecastLoss.keys })).sorted()
        var s = "<section id=\"vol-models\">\n<h2>Volatility models</h2>\n<p class=\"note\">Out-of-sample one-day variance "
            + "forecasts against the next day's squared return (lower is better), and the IM figures under each model.</p>\n"
            + "<table class=\"vol-models\">\n<tr><th class=\"text\">Model</th>"
            + underlyings.map { "<th>\(TextFormatting.html($0)) QLIKE</th><th>\(TextFormatting.html($0)) MSE</th>" }.joined() + "</tr>\n"
        for c in comparisons {
            s += "<tr><td class=\"text\">\(TextFormatting.html(c.model))</td>" + underlyings.map { u in
                guard let loss = c.forecastLoss[u] else { return "<td></td><td></td>" }
                return "<td>\(f(loss.qlike, 4))</td><td>\(String(format: "%.3e", loss.mse))</td>"
            }.joined() + "</tr>\n"
        }
        s += "</table>\n<table>\n<tr><th class=\"text\">Model</th><th class=\"text\">Portfolio</th><th>Exceptions</th><th>Coverage</th>"
            + "<th class=\"text\">Zone</th><th>Mean % notional</th><th>Margin ÷ q99 loss</th><th>Max +5 d</th><th>APC cost</th></tr>\n"
        for c in comparisons {
            for p in c.portfolios where p.measure == .im {
                s += "<tr><td class=\"text\">\(TextFormatting.html(c.model))</td><td class=\"text\">\(TextFormatting.html(p.name))</td>"
                    + "<td>\(p.exceptions)</td><td>\(TextFormatting.percent(p.coverage, 2))</td><td class=\"text\">\(zoneHTML(p.trafficLight.zone))</td>"
                    + "<td>\(f(p.efficiency.meanMarginPctNotional, 1))</td><td>\(f(p.efficiency.marginOverQ99Loss, 2))</td>"
                    + "<td>\(TextFormatting.percent(p.procyclicality.maxIncrease5d, 0))</td><td>\(TextFormatting.percent(p.efficiency.apcCost, 1))</td></tr>\n"
            }
        }
        return s + "</table>\n</section>\n"
    }

    /// The summary table: one row per portfolio and measure, the name linking to its section.
    private func summaryHTML(_ sections: [PortfolioSection]) -> String {
        var s = "<table class=\"summary\">\n<tr><th>Portfolio</th><th class=\"text\">Measure</th><th>Observations</th><th>Exceptions</th>"
            + "<th>Coverage</th><th>Kupiec p</th><th>Christoffersen cc p</th><th class=\"text\">Traffic light</th>"
            + "<th>Peak / trough</th><th>Mean % notional</th><th>Margin ÷ q99 loss</th><th>Max +5 d</th></tr>\n"
        for (number, section) in sections.enumerated() {
            for backtest in section.backtests {
                s += "<tr><td><a href=\"#portfolio-\(number + 1)\">\(TextFormatting.html(section.name))</a></td>"
                    + "<td class=\"text\">\(ReportStyle.name(backtest.measure))</td>"
                    + "<td>\(backtest.observations)</td><td>\(backtest.exceptions)</td>"
                    + "<td>\(TextFormatting.percent(backtest.coverage, 2))</td>"
                    + "<td>\(TextFormatting.pValue(backtest.kupiec.p))</td>"
                    + "<td>\(TextFormatting.pValue(backtest.christoffersen.pConditionalCoverage))</td>"
                    + "<td class=\"text\">\(zoneHTML(backtest.trafficLight.zone))</td>"
                    + "<td>\(TextFormatting.fixed(backtest.procyclicality.peakToTrough, 2))</td>"
                    + "<td>\(TextFormatting.fixed(backtest.efficiency.meanMarginPctNotional, 1))</td>"
                    + "<td>\(TextFormatting.fixed(backtest.efficiency.marginOverQ99Loss, 2))</td>"
                    + "<td>\(TextFormatting.percent(backtest.procyclicality.maxIncrease5d, 0))</td></tr>\n"
            }
        }
        return s + "</table>\n"
    }

    /// A portfolio's coverage-test, efficiency and procyclicality tables (the baseline's rows
    /// beside the model's when the run has one).
    private func statisticsHTML(_ backtests: [PortfolioBacktest], baseline: [PortfolioBacktest]) -> String {
        guard !backtests.isEmpty else { return "" }
        let f = TextFormatting.fixed
        var s = "<h3>Coverage tests</h3>\n<table>\n<tr><th>Measure</th><th>Obs</th><th>Exc</th><th>Coverage</th>"
            + "<th>Kupiec LR</th><th>p</th><th>Independence LR</th><th>p</th><th>Cond. coverage LR</th><th>p</th>"
            + "<th class=\"text\">Zone</th><th>P(X ≤ exc)</th></tr>\n"
        for b in backtests {
            s += "<tr><td>\(ReportStyle.name(b.measure))</td><td>\(b.observations)</td><td>\(b.exceptions)</td>"
                + "<td>\(TextFormatting.percent(b.coverage, 2))</td>"
                + "<td>\(f(b.kupiec.lr, 3))</td><td>\(TextFormatting.pValue(b.kupiec.p))</td>"
                + "<td>\(f(b.christoffersen.lrIndependence, 3))</td><td>\(TextFormatting.pValue(b.christoffersen.pIndependence))</td>"
                + "<td>\(f(b.christoffersen.lrConditionalCoverage, 3))</td>"
                + "<td>\(TextFormatting.pValue(b.christoffersen.pConditionalCoverage))</td>"
                + "<td class=\"text\">\(zoneHTML(b.trafficLight.zone))</td><td>\(f(b.trafficLight.cumulativeProbability, 4))</td></tr>\n"
        }
        s += "</table>\n<h3>Capital efficiency</h3>\n<table class=\"efficiency\">\n<tr><th class=\"text\">Margin</th><th>Coverage</th>"
            + "<th>Mean % notional</th><th>Margin ÷ q99 loss</th><th>Breach loss ÷ margin, mean</th><th>max</th><th>APC cost</th></tr>\n"
        let rows = backtests.map { ("\(ReportStyle.name($0.measure))", $0) } + baseline.map { ("static \(ReportStyle.name($0.measure))", $0) }
        for (label, b) in rows {
            let e = b.efficiency
            s += "<tr><td class=\"text\">\(label)</td><td>\(TextFormatting.percent(b.coverage, 2))</td><td>\(f(e.meanMarginPctNotional, 2))</td>"
                + "<td>\(f(e.marginOverQ99Loss, 2))</td><td>\(f(e.breachLossToMarginMean, 2))</td><td>\(f(e.breachLossToMarginMax, 2))</td>"
                + "<td>\(TextFormatting.percent(e.apcCost, 1))</td></tr>\n"
        }
        s += "</table>\n<h3>Procyclicality</h3>\n<table>\n<tr><th>Margin</th><th>Peak / trough</th>"
            + "<th>Max increase 1 d</th><th>5 d</th><th>10 d</th><th>30 d</th></tr>\n"
        for (label, b) in rows {
            let lines = [(label, b.procyclicality)] + (b.procyclicalityWithoutAPC.map { [("\(label) without APC", $0)] } ?? [])
            for (label, m) in lines {
                s += "<tr><td>\(label)</td><td>\(f(m.peakToTrough, 2))</td><td>\(TextFormatting.percent(m.maxIncrease1d, 1))</td>"
                    + "<td>\(TextFormatting.percent(m.maxIncrease5d, 1))</td><td>\(TextFormatting.percent(m.maxIncrease10d, 1))</td>"
                    + "<td>\(TextFormatting.percent(m.maxIncrease30d, 1))</td></tr>\n"
            }
        }
        return s + "</table>\n"
    }

    private func zoneHTML(_ zone: TrafficLightZone) -> String {
        "<span class=\"zone zone-\(zone.rawValue)\">\(zone.rawValue)</span>"
    }
}
