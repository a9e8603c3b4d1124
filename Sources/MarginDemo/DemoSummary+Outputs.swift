import Foundation
import KafkaClient
import MarginCore
import MarginSchema

/// What a demo run observed, from which its summary is computed.
struct DemoObservations {
    var options: DemoOptions
    var market: DemoMarket
    var wallStart: Date
    var fit: [String: Double]
    /// The latest result per account once every account was margined, and at the end.
    var before: [String: Margin_V1_MarginResult]
    var after: [String: Margin_V1_MarginResult]
    var instructions: [Margin_V1_LiquidationInstruction]
    var resultCount: Int
    var lastTimestamp: Int64
    var p50: Double
    var p99: Double
    var maxQueued: Int
    var queuedNow: Set<String>
    var waitingAtEnd: [String: Int]
    var calibration: [DemoSummary.CalibrationPoint]
    var dropped: [TopicPartition: Int64]
}

extension DemoSummary {
    /// The summary of a run: health before and after, instructions and their notional, add-ons,
    /// and the consistency checks (unhandled liquidatable accounts, instructions on healthy ones).
    init(_ run: DemoObservations) {
        let after = run.after, instructions = run.instructions, before = run.before
        let catalog = InstrumentCatalog(run.market.instruments)
        let finalIndex = run.market.snapshot(at: run.lastTimestamp, path: run.options.path).indexPrice
        func health(_ results: [String: Margin_V1_MarginResult]) -> [String: Int] {
            var counts: [String: Int] = [:]
            for result in results.values { counts[DemoSummary.name(result.health), default: 0] += 1 }
            return counts
        }
        let issued = instructions.filter { !$0.cancel }
        var notional = 0.0
        for leg in issued.flatMap(\.legs) {
            guard let instrument = catalog[leg.instrument] else { continue }
            switch (instrument.kind, instrument.settlement) {
            case (.option, _): notional += leg.quantity * instrument.contractSize * finalIndex
            case (_, .inverse): notional += leg.quantity * instrument.contractSize
            default: notional += leg.quantity * instrument.contractSize * finalIndex
            }
        }
        var deficits: [String: Double] = [:]
        for instruction in issued where instruction.reason == .bankrupt { deficits[instruction.accountID] = instruction.estimatedDeficit }
        let instructed = Set(issued.map(\.accountID))
        let unhandled = after.values.filter {
            ($0.health == .liquidatable || $0.health == .bankrupt) && !instructed.contains($0.accountID) && !run.queuedNow.contains($0.accountID)
        }.map(\.accountID)
        let top = issued.sorted { $0.severity > $1.severity }.prefix(10).map { instruction in
            DemoSummary.Instruction(id: instruction.id, account: instruction.accountID, severity: instruction.severity,
                                    reason: instruction.reason == .bankrupt ? "bankrupt" : "maintenance_breach",
                                    equity: instruction.equity, maintenance: instruction.maintenanceRequirement,
                                    legs: instruction.legs.map { "\($0.side == .buy ? "buy" : "sell") \(DemoSummary.format($0.quantity)) \($0.instrument) @ \(DemoSummary.format($0.limitPrice))" })
        }
        let addOns = DemoSummary.addOns(before)
        self.init(
            accounts: run.options.accounts, seed: run.options.seed, sviFitRMSVolPoints: run.fit, healthBefore: health(before), healthAfter: health(after),
            maintenanceBefore: before.values.reduce(0) { $0 + $1.maintenanceRequirement }, maintenanceAfter: after.values.reduce(0) { $0 + $1.maintenanceRequirement },
            initialBefore: before.values.reduce(0) { $0 + $1.initialRequirement }, initialAfter: after.values.reduce(0) { $0 + $1.initialRequirement },
            instructions: issued.count, cancels: instructions.count - issued.count, legs: issued.reduce(0) { $0 + $1.legs.count },
            notionalInstructedUSD: notional, maxQueuedByAntiCascade: run.maxQueued, waitingAtEnd: run.waitingAtEnd, bankruptAccounts: deficits.count,
            estimatedDeficit: deficits.values.reduce(0, +), resultsRead: run.resultCount, instructionsRead: instructions.count,
            remarginLatencyP50Ms: run.p50, remarginLatencyP99Ms: run.p99, topInstructions: Array(top),
            unhandledLiquidatable: unhandled.sorted(),
            instructionsOnHealthyAccounts: issued.filter { $0.equity >= $0.maintenanceRequirement && $0.equity >= 10 }.map(\.id),
            instructionIDs: issued.map(\.id).sorted(), wallSeconds: Date().timeIntervalSince(run.wallStart),
            calibration: run.calibration,
            droppedByEmbeddedBroker: Dictionary(uniqueKeysWithValues: run.dropped.map { ("\($0.key.topic)[\($0.key.partition)]", $0.value) }),
            liquidityAddOnInitial: addOns.liquidity, concentrationAddOnInitial: addOns.concentration, addOnsLargestAccounts: addOns.largest)
    }

    /// The add-ons' IM in `results` (the `liquidity` and `concentration` contingencies), in total
    /// and for the ten accounts with the largest IM.
    static func addOns(_ results: [String: Margin_V1_MarginResult]) -> (liquidity: Double, concentration: Double, largest: [DemoSummary.AddOnShare]) {
        func charge(_ result: Margin_V1_MarginResult, _ name: String) -> Double {
            result.riskUnits.flatMap(\.contingencies).filter { $0.name == name }.reduce(0) { $0 + $1.initial }
        }
        let liquidity = results.values.reduce(0) { $0 + charge($1, "liquidity") }
        let concentration = results.values.reduce(0) { $0 + charge($1, "concentration") }
        let largest = results.values.sorted {
            $0.initialRequirement != $1.initialRequirement ? $0.initialRequirement > $1.initialRequirement : $0.accountID < $1.accountID
        }.prefix(10).map { result in
            let l = charge(result, "liquidity"), c = charge(result, "concentration")
            let top = result.riskUnits.flatMap(\.liquidityAddOns).max {
                $0.liquidityInitial + $0.concentrationInitial < $1.liquidityInitial + $1.concentrationInitial
            }
            let largest = top.map { "\($0.instrument) × \(format($0.quantity)) (book \(format($0.closeCost.displayedDepth)))" } ?? ""
            return DemoSummary.AddOnShare(account: result.accountID, initialRequirement: result.initialRequirement, liquidity: l,
                                          concentration: c, share: result.initialRequirement > 0 ? (l + c) / result.initialRequirement : 0,
                                          largestPosition: largest)
        }
        return (liquidity, concentration, Array(largest))
    }

    static func name(_ health: Margin_V1_HealthState) -> String {
        switch health {
        case .healthy: return "healthy"
        case .belowIm: return "below_im"
        case .liquidatable: return "liquidatable"
        case .bankrupt: return "bankrupt"
        case .stale: return "stale"
        case .error: return "error"
        default: return "unknown"
        }
    }

    static func format(_ value: Double) -> String {
        abs(value) >= 100 ? String(format: "%.1f", value) : String(format: "%.4f", value)
    }
}
