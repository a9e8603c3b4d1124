import MarginCore
import MarginEngineCore

/// `GET /accounts/{id}`: one account's margin explained: per underlying a bar chart of the
/// scenario PnLs with the binding one marked and the contributions per position, contingencies,
/// equity parts and the liquidation state.
enum ConsoleAccountPage {
    static func render(_ a: ConsoleAccount) -> String {
        typealias H = ConsoleHTML
        var body = "<h1>Account \(H.escape(a.id))</h1>"
        guard let r = a.result else {
            body += "<section id=\"summary\"><p>version \(a.version), partition \(a.partition): not margined: \(H.escape(a.blockedReason ?? ""))</p></section>"
            return H.page(title: "Account \(a.id)", body: body)
        }
        let asset = H.escape(r.valuationAsset)
        body += "<section class=\"facts\" id=\"summary\">"
        let facts: [(String, String)] = [
            ("health", H.badge(r.health.rawValue, kind: r.health.rawValue)),
            ("equity (\(asset))", H.amount(r.equity)), ("maintenance (MM)", H.amount(r.maintenanceRequirement)),
            ("initial equity", H.amount(r.initialEquity)), ("initial (IM)", H.amount(r.initialRequirement)),
            ("gross equity", H.amount(r.grossEquity)), ("surplus over MM", H.amount(r.maintenanceSurplus)),
            ("surplus over IM", H.amount(r.initialSurplus)),
            ("risk loss", "\(H.amount(r.riskModel.riskLoss)) (\(H.escape(r.riskModel.binding.rawValue)))"),
            ("parameters", H.escape("\(r.parameterSetId) v\(r.parameterSetVersion)")),
            ("account version / partition", "\(a.version) / \(a.partition)"), ("as of", H.time(r.asOfMs)),
        ]
        for (name, value) in facts { body += "<div><span class=\"muted\">\(name)</span><b>\(value)</b></div>" }
        body += "</section>"

        body += "<section id=\"liquidation\"><h2>Liquidation</h2>"
        if let i = a.outstanding {
            body += "<p>Outstanding instruction <b>\(H.escape(i.id))</b>, round \(i.round), deadline \(H.time(i.deadlineMs)).</p>"
        } else if let reason = a.waitingReason {
            body += "<p>\(H.badge("waiting", kind: "warn")) \(H.escape(reason))</p>"
        } else {
            body += "<p class=\"muted\">No outstanding instruction.</p>"
        }
        body += "</section>"

        for unit in r.riskUnits {
            let binding = H.escape(unit.bindingLabel)
            body += "<section class=\"unit\" id=\"unit-\(H.escape(unit.underlying))\"><h2>\(H.escape(unit.underlying)): binding \(binding)</h2>"
            body += ConsoleCharts.scenarios(unit, labels: a.scenarioLabels[unit.underlying] ?? [])
            body += H.table(["worst loss", "allocated loss", "MM factor", "IM factor", "MM", "IM", "mark-to-market", "index"],
                            numeric: Set(0..<8), rows: [[
                H.amount(unit.worstLoss), H.amount(unit.allocatedLoss), H.amount(unit.maintenanceFactor, decimals: 3),
                H.amount(unit.initialFactor, decimals: 3), H.amount(unit.maintenanceRequirement), H.amount(unit.initialRequirement),
                H.amount(unit.markToMarket), "\(H.amount(unit.indexPrice)) at \(H.time(unit.marketTimestampMs))",
            ]])
            body += "<h3>Contributions at the binding scenario</h3>"
            let contributions = unit.contributions.sorted { $0.pnl < $1.pnl }
            body += H.table(["position", "quantity", "PnL"], numeric: [1, 2], rows: contributions.map {
                [H.escape($0.name), H.amount($0.quantity, decimals: 4), H.amount($0.pnl)]
            } + [["<b>sum</b>", "", "<b>\(H.amount(contributions.reduce(0) { $0 + $1.pnl }))</b>"]], id: "contributions-\(H.escape(unit.underlying))")
            body += "<h3>Contingencies</h3>" + contingencies(unit.contingencies)
            body += "</section>"
        }
        if !r.accountContingencies.isEmpty {
            body += "<section><h2>Account contingencies</h2>\(contingencies(r.accountContingencies))</section>"
        }
        body += "<section id=\"equity\"><h2>Equity parts</h2>"
        body += H.table(["kind", "name", "quantity", "price", "value", "MM haircut", "IM haircut"], numeric: [2, 3, 4, 5, 6],
                        rows: r.equityComponents.map { c in
            [c.kind.rawValue, H.escape(c.name), H.amount(c.quantity, decimals: 4), H.amount(c.price), H.amount(c.value),
             H.amount(c.maintenanceHaircut), H.amount(c.initialHaircut)]
        } + [["", "<b>gross equity</b>", "", "", "<b>\(H.amount(r.grossEquity))</b>", "", ""],
             ["", "<b>equity</b> (after MM haircuts)", "", "", "<b>\(H.amount(r.equity))</b>", "", ""]], id: "equity-parts")
        body += "</section>"
        return H.page(title: "Account \(a.id)", body: body)
    }

    static func contingencies(_ charges: [ContingencyCharge]) -> String {
        ConsoleHTML.table(["contingency", "what was charged", "MM", "IM"], numeric: [2, 3], rows: charges.map {
            [ConsoleHTML.escape($0.name), ConsoleHTML.escape($0.detail), ConsoleHTML.amount($0.maintenance), ConsoleHTML.amount($0.initial)]
        })
    }
}
