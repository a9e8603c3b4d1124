import ArgumentParser
import CommandLineSupport
import Foundation
import MarginCore
import MarginSchema

/// `margin-engine margin`: what-if margin of one account against given markets.
struct MarginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "margin",
        abstract: "Margin one account (what-if) and print the result with its breakdown.",
        discussion: """
        A.json is a margin.v1.AccountState, M.json a margin.v1.MarketData (instruments and market \
        snapshots), P.json a margin.v1.RiskParameters, all in the protobuf JSON mapping. Without \
        --params the preset named by --preset is used. Exit code 2 on invalid input.
        """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case json, table
    }

    @Option(name: .long, help: "Account state (protobuf JSON).")
    var account: String

    @Option(name: .long, help: "Market data: instruments and snapshots (protobuf JSON).")
    var market: String

    @Option(name: .long, help: "Risk parameters (protobuf JSON).")
    var params: String?

    @Option(name: .long, help: "Preset to use when --params is absent (\(RiskPresets.names.joined(separator: ", "))).")
    var preset: String = "deribit-like"

    @Option(name: .long, help: "Valuation time, Unix ms (default: the latest market timestamp).")
    var asOf: Int64?

    @Option(name: .long, help: "Output format: json or table.")
    var format: Format = .json

    @Option(name: .long, help: "Pre-trade check: an order (margin.v1.OpenOrder, protobuf JSON, inline or a file) added to the account's open orders; prints whether it fits in IM.")
    var order: String?

    func run() throws {
        do {
            let accountState = try SchemaCoding.decode(Margin_V1_AccountState.self, from: readInputFile(account, what: "account"), format: .json)
            let marketData = try SchemaCoding.decode(Margin_V1_MarketData.self, from: readInputFile(market, what: "market"), format: .json)
            let parameters: RiskParameters
            if let params {
                parameters = try RiskParameters(proto: SchemaCoding.decode(Margin_V1_RiskParameters.self,
                                                                           from: readInputFile(params, what: "params"), format: .json))
            } else {
                parameters = try RiskPresets.load(preset)
            }
            let (markets, catalog) = try MarketState.from(proto: marketData)
            let asOfMs = asOf ?? markets.underlyings.values.map(\.timestampMs).max() ?? 0
            let calculator = MarginCalculator(parameters: parameters)
            if let order {
                let text = order.trimmingCharacters(in: .whitespaces).hasPrefix("{") ? Data(order.utf8) : readInputFile(order, what: "order")
                let openOrder = try OpenOrder(proto: SchemaCoding.decode(Margin_V1_OpenOrder.self, from: text, format: .json), field: "order")
                let check = try calculator.preTrade(account: try Account(proto: accountState), order: openOrder, catalog: catalog,
                                                    markets: markets, asOfMs: asOfMs)
                switch format {
                case .json:
                    FileHandleOutput.standardOutput(String(decoding: try SchemaCoding.encode(check.proto, format: .json, pretty: true), as: UTF8.self) + "\n")
                case .table:
                    FileHandleOutput.standardOutput(MarginTable.render(check))
                }
                return
            }
            let result = try calculator.margin(
                account: try Account(proto: accountState), catalog: catalog, markets: markets, asOfMs: asOfMs)
            switch format {
            case .json:
                let data = try SchemaCoding.encode(result.proto(), format: .json, pretty: true)
                FileHandleOutput.standardOutput(String(decoding: data, as: UTF8.self) + "\n")
            case .table:
                FileHandleOutput.standardOutput(MarginTable.render(result))
            }
        } catch {
            failInput(error.description)
        }
    }
}

/// Human rendering of a margin result.
enum MarginTable {
    /// The pre-trade answer, then the margin with the order.
    static func render(_ check: PreTradeCheck) -> String {
        func f(_ v: Double) -> String { String(format: "%.2f", v) }
        var out = "pre-trade: the order \(check.fits ? "fits" : "does NOT fit") in initial margin\n"
        out += "  initial requirement \(f(check.before.initialRequirement)) → \(f(check.after.initialRequirement)) (order IM \(f(check.orderInitialMargin)))\n"
        out += "  initial equity \(f(check.after.initialEquity)), surplus after \(f(check.after.initialSurplus))\n\n"
        return out + render(check.after)
    }

    static func render(_ r: MarginResult) -> String {
        func f(_ v: Double) -> String { String(format: "%.2f", v) }
        func row(_ label: String, _ value: String) -> String { label.padding(toLength: max(34, label.count + 2), withPad: " ", startingAt: 0) + value + "\n" }
        var out = "Account \(r.accountId) v\(r.accountVersion) — parameters \(r.parameterSetId) v\(r.parameterSetVersion), amounts in \(r.valuationAsset)\n"
        out += row("health", r.health.rawValue)
        out += row("gross equity", f(r.grossEquity))
        out += row("equity (MM haircuts)", f(r.equity))
        out += row("equity (IM haircuts)", f(r.initialEquity))
        out += row("maintenance requirement", f(r.maintenanceRequirement))
        out += row("initial requirement", f(r.initialRequirement))
        out += row("maintenance surplus", f(r.maintenanceSurplus))
        out += riskModel(r.riskModel, f: f, row: row)
        for unit in r.riskUnits {
            out += "\n[\(unit.underlying)] index \(f(unit.indexPrice)); binding: \(unit.bindingLabel); worst loss \(f(unit.worstLoss))\n"
            if unit.allocatedLoss != unit.worstLoss { out += row("  allocated risk loss", f(unit.allocatedLoss)) }
            out += row("  MM = \(unit.maintenanceFactor) × loss + contingencies", f(unit.maintenanceRequirement))
            out += row("  IM = \(unit.initialFactor) × loss + contingencies", f(unit.initialRequirement))
            if unit.basisContingency != 0 { out += row("  basis contingency", f(unit.basisContingency)) }
            if let adjustment = unit.adjustment {
                let changed = zip(unit.scenarioPnLs, unit.unadjustedScenarioPnLs).filter { $0 != $1 }.count
                out += row("  extended dampener", "\(f(adjustment.tailDampener))  (tail losses count beyond it)")
                out += row("  gain credit", "\(adjustment.gainFraction) × gains, cap \(adjustment.gainCap.isFinite ? f(adjustment.gainCap) : "none")  (\(changed) scenario(s) adjusted)")
            }
            for charge in unit.contingencies {
                out += row("  \(charge.name) MM / IM", "\(f(charge.maintenance)) / \(f(charge.initial))  (\(charge.detail))")
            }
            for contribution in unit.contributions.sorted(by: { $0.pnl < $1.pnl }) {
                out += row("  \(contribution.name) × \(contribution.quantity)", f(contribution.pnl))
            }
            out += liquidity(unit.liquidityAddOns, f: f, row: row)
        }
        for charge in r.accountContingencies {
            out += row("\(charge.name) IM", "\(f(charge.initial))  (\(charge.detail))")
        }
        out += "\nequity components\n"
        for c in r.equityComponents {
            out += row("  \(c.kind.rawValue) \(c.name) × \(c.quantity)", "\(f(c.value))  haircuts \(f(c.maintenanceHaircut)) / \(f(c.initialHaircut))")
        }
        return out
    }

    /// Each instrument's liquidity and concentration add-ons with the inputs they used.
    static func liquidity(_ lines: [LiquidityAddOn], f: (Double) -> String, row: (String, String) -> String) -> String {
        guard !lines.isEmpty else { return "" }
        func g(_ v: Double) -> String { String(format: "%.6g", v) }
        var out = "  liquidity and concentration add-ons (MM / IM)\n"
        for line in lines {
            out += row("    \(line.instrument) × \(g(line.quantity))",
                       "liquidity \(f(line.liquidityMaintenance)) / \(f(line.liquidityInitial)), concentration \(f(line.concentrationMaintenance)) / \(f(line.concentrationInitial))")
            var inputs: [String] = []
            if let into = line.nettedInto { inputs.append("netted into \(into)") }
            if let cost = line.closeCost {
                if cost.noBook {
                    inputs.append("no book: \(g(cost.quantity)) × (half spread + impact) \(g(cost.worstDistance))")
                } else {
                    inputs.append("\(cost.side.rawValue) side: \(cost.levelsUsed) level(s) of \(g(cost.displayedDepth)) displayed walked for \(f(cost.walked))")
                    if cost.beyondDepth > 0 { inputs.append("\(g(cost.beyondDepth)) beyond depth for \(f(cost.beyondCost)) (impact \(g(cost.impactPerContract))/contract)") }
                }
                inputs.append("mid \(g(cost.referencePrice)), σ/day \(g(line.dailyVolatility))")
            }
            inputs.append("volume 24h \(line.volume24h.map(g) ?? "n/a"), open interest \(line.openInterest.map(g) ?? "n/a")")
            if let threshold = line.concentrationThreshold {
                inputs.append("threshold \(g(threshold)), standalone loss \(f(line.standaloneLoss)) on notional \(f(line.notional)): rate \(g(line.baseRate)) → \(g(line.concentratedRate))")
            }
            out += "      " + inputs.joined(separator: "; ") + "\n"
        }
        return out
    }

    /// Which component binds, and for the joint scenario set its tail.
    static func riskModel(_ m: AccountRiskBreakdown, f: (Double) -> String, row: (String, String) -> String) -> String {
        var out = "\nrisk loss \(f(m.riskLoss)) — binding: \(m.binding.rawValue)\n"
        out += row("  grid (sum of underlyings)", f(m.gridSum))
        if m.gridJoint != m.gridSum || m.decorrelation != 1 {
            out += row("  grid (joint scenarios)", f(m.gridJoint))
            out += row("  grid = \(m.decorrelation)·sum + \(1 - m.decorrelation)·joint", f(m.gridLoss))
            out += row("  correlation contingency (in the grid)", f(m.correlationContingency))
        }
        if let h = m.historical {
            let level = String(format: "%.1f%%", h.confidence * 100)
            out += row("  \(h.source.rawValue) \(h.measure.rawValue.uppercased()) \(level), \(h.horizonDays)d, \(h.scenarioCount) scenarios", f(h.loss))
            out += row("    VaR / ES", "\(f(h.valueAtRisk)) / \(f(h.expectedShortfall))" + (h.standardError > 0 ? "  (MC s.e. \(f(h.standardError)))" : ""))
            if !h.uncoveredUnderlyings.isEmpty { out += row("    grid loss added for", h.uncoveredUnderlyings.joined(separator: ", ")) }
            out += "    worst scenarios: " + h.worstScenarios.prefix(10).map { "\($0.label) \(f($0.pnl))" }.joined(separator: ", ") + "\n"
            for c in h.contributions.sorted(by: { $0.pnl < $1.pnl }) {
                out += row("    \(c.name) × \(c.quantity) (tail mean PnL)", f(c.pnl))
            }
        }
        return out
    }
}
