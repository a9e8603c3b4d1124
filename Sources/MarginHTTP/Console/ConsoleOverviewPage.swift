import MarginCore
import MarginEngineCore

/// `GET /`: this instance's partitions and restore state, markets with age and staleness,
/// accounts per health state, the accounts nearest liquidation, outstanding and queued liquidations.
enum ConsoleOverviewPage {
    static func render(_ o: ConsoleOverview) -> String {
        typealias H = ConsoleHTML
        var body = "<h1>Instance \(H.escape(o.instanceID))</h1><section class=\"facts\" id=\"instance\">"
        let params = o.parameterSetVersion.map { "\(o.parameterSetID) v\($0)" } ?? "\(o.parameterSetID) (not loaded)"
        let restoredCount = o.partitions.filter(\.restored).count
        let facts: [(String, String)] = [
            ("state", o.ready ? H.badge("ready", kind: "ok") : H.badge("not ready", kind: "warn")),
            ("consumer group", H.escape(o.group)),
            ("parameter set", H.escape(params)),
            ("reference data", o.referenceRestored ? H.badge("restored", kind: "ok") : H.badge("restoring", kind: "warn")),
            ("partitions restored", "\(restoredCount) / \(o.partitions.count)"),
            ("accounts", H.amount(Double(o.accounts), decimals: 0)),
            ("re-margin p50 / p99", "\(H.milliseconds(o.latencyP50Ms)) / \(H.milliseconds(o.latencyP99Ms))"),
            ("as of", H.time(o.nowMs)),
        ]
        for (name, value) in facts { body += "<div><span class=\"muted\">\(H.escape(name))</span><b>\(value)</b></div>" }
        body += "</section><div class=\"grid\">"

        body += "<section><h2>Partitions</h2>"
        body += H.table(["partition", "state", "accounts", "read / restore target"], numeric: [0, 2, 3], rows: o.partitions.map { p in
            ["\(p.partition)", p.restored ? H.badge("restored", kind: "ok") : H.badge("restoring", kind: "warn"),
             H.amount(Double(p.accounts), decimals: 0), "\(p.nextOffset) / \(p.restoreTarget)"]
        }, id: "partitions", empty: "no partition assigned")
        body += "</section>"

        body += "<section><h2>Accounts per health state</h2>\(ConsoleCharts.health(o.accountsByHealth))"
        if o.unmargined > 0 { body += "<p class=\"muted\">\(o.unmargined) held but not margined (missing market or parameters)</p>" }
        body += "</section>"

        body += "</div><div class=\"grid\">"
        body += "<section><h2>Markets</h2>"
        body += H.table(["underlying", "index", "confidence", "snapshot", "age", "state"], numeric: [1, 2, 4], rows: o.markets.map { m in
            [H.escape(m.underlying), H.amount(m.indexPrice), H.amount(m.indexConfidence, decimals: 2), H.clock(m.timestampMs), H.age(m.ageMs),
             m.stale ? H.badge("stale", kind: "stale") : H.badge("fresh", kind: "ok")]
        }, id: "markets", empty: "no market snapshot yet")
        body += "</section>"

        body += "<section><h2>Liquidations</h2><h3>Outstanding instructions (\(o.outstanding.count))</h3>"
        body += H.table(["account", "instruction", "round", "deadline", "partition"], numeric: [2, 4], rows: o.outstanding.map { i in
            [accountLink(i.accountID), H.escape(i.id), "\(i.round)", H.clock(i.deadlineMs) + (i.deadlineMs < o.nowMs ? " " + H.badge("expired", kind: "bad") : ""),
             "\(i.partition)"]
        }, id: "outstanding")
        body += "<h3>Queued for anti-cascade budget (\(o.queued.count))</h3>"
        body += H.table(["account"], rows: o.queued.map { [accountLink($0)] }, id: "queued")
        body += "</section></div>"

        body += "<section><h2>Accounts nearest liquidation</h2>"
        let asset = o.valuationAsset.isEmpty ? "" : " (\(o.valuationAsset))"
        body += H.table(["account", "health", "equity\(asset)", "MM", "IM", "cushion over MM", "partition"], numeric: [2, 3, 4, 5, 6],
                        rows: o.nearest.map { row in
            [accountLink(row.id), H.badge(row.health.rawValue, kind: row.health.rawValue), H.amount(row.equity), H.amount(row.maintenance),
             H.amount(row.initial), H.percent(row.cushion), "\(row.partition)"]
        }, id: "nearest", empty: "no margined account")
        body += "<p class=\"muted\">Cushion: (equity − MM) / MM; negative means liquidatable. Stale accounts carry their last computable numbers.</p></section>"
        return H.page(title: "Risk console · \(o.instanceID)", body: body)
    }

    static func accountLink(_ id: String) -> String {
        "<a href=\"/accounts/\(ConsoleHTML.pathSegment(id))\">\(ConsoleHTML.escape(id))</a>"
    }
}
