/// Which account-level columns the units add into: the grid's (when correlation across units is
/// on and the grids align) and the joint scenario set's (when the parameters have one).
struct AccountRiskLayout {
    /// Grid columns tracked jointly (0: the grid loss is the plain sum).
    var gridColumns = 0
    /// Joint scenarios (0: no joint scenario set applies to this account).
    var scenarioCount = 0
    var columnsPerScenario = 1

    var historicalColumns: Int { scenarioCount * columnsPerScenario }
    var size: Int { gridColumns + historicalColumns }
    /// One unit only: its columns are the account's, copied instead of added, so the scratch
    /// needs no zeroing (``MarginCalculator/withJointScratch(_:_:)``).
    var singleUnit = false

    /// Adds a unit's column PnLs (`total`, from the aggregation) into the account's columns (copies
    /// them for a single unit; a book without the set's columns contributes zeros).
    @inline(__always)
    func accumulate(_ total: UnsafeMutableBufferPointer<Double>, of book: RiskBook, into joint: UnsafeMutableBufferPointer<Double>) {
        for column in 0..<gridColumns { joint[column] += total[column] }
        let extra = historicalColumns
        guard extra > 0 else { return }
        let offset = book.gridScenarioCount
        guard book.scenarioCount - book.gridScenarioCount == extra else {
            if singleUnit { UnsafeMutableBufferPointer(rebasing: joint[gridColumns..<(gridColumns + extra)]).update(repeating: 0) }
            return
        }
        if singleUnit {
            _ = UnsafeMutableBufferPointer(rebasing: joint[gridColumns..<(gridColumns + extra)])
                .update(fromContentsOf: UnsafeMutableBufferPointer(rebasing: total[offset..<(offset + extra)]))
        } else {
            for column in 0..<extra { joint[gridColumns + column] += total[offset + column] }
        }
    }
}

extension MarginCalculator {
    /// The account-level combination of one margin run (see ``AccountRiskBreakdown``).
    struct Combination {
        var gridSum = 0.0
        var gridJoint = 0.0
        var gridLoss = 0.0
        var historicalLoss: Double?
        var valueAtRisk = 0.0
        var expectedShortfall = 0.0
        var riskLoss = 0.0
        var binding = AccountRiskBreakdown.Binding.none
        // Explanation only: tail scenarios (worst first) with the volatility column that was worst
        // for each, the ten worst scenarios and the Monte Carlo standard error.
        var tail: [(scenario: Int, variant: Int)] = []
        var worst: [(scenario: Int, pnl: Double)] = []
        var standardError = 0.0
    }

    /// The account's layout; with `resolved` (one element per unit), also each unit's book, which
    /// `books` keeps alive.
    func riskLayout(_ exposure: AccountExposure, books: [String: RiskBook],
                    resolved: UnsafeMutableBufferPointer<Unmanaged<RiskBook>>? = nil) throws(MarginError) -> AccountRiskLayout {
        var layout = AccountRiskLayout()
        var gridCount: Int?
        var aligned = true
        var hasHistorical = false
        for index in exposure.units.indices {
            let underlying = exposure.units[index].underlying
            guard let book = books[underlying] else { throw .missingMarket(underlying: underlying) }
            resolved?.initializeElement(at: index, to: .passUnretained(book))
            if let count = gridCount, count != book.gridScenarioCount { aligned = false }
            gridCount = book.gridScenarioCount
            if book.scenarioCount > book.gridScenarioCount { hasHistorical = true }
        }
        if exposure.units.count > 1, parameters.decorrelation < 1, aligned, let gridCount { layout.gridColumns = gridCount }
        if hasHistorical, let set = parameters.historicalSimulation {
            layout.scenarioCount = set.scenarioCount
            layout.columnsPerScenario = set.columnsPerScenario
        }
        layout.singleUnit = exposure.units.count == 1
        return layout
    }

    /// Runs `body` with the account-level columns (stack scratch), or nil when none are needed;
    /// zeroed unless a single unit's columns are copied in whole (``AccountRiskLayout/singleUnit``).
    func withJointScratch<R>(_ layout: AccountRiskLayout,
                             _ body: (UnsafeMutableBufferPointer<Double>?) throws(MarginError) -> R) throws(MarginError) -> R {
        guard layout.size > 0 else { return try body(nil) }
        let outcome: Result<R, MarginError> = withUnsafeTemporaryAllocation(of: Double.self, capacity: layout.size) { joint in
            if !layout.singleUnit || layout.gridColumns > 0 { joint.initialize(repeating: 0) }
            do throws(MarginError) { return .success(try body(joint)) } catch { return .failure(error) }
        }
        return try outcome.get()
    }

    /// Combines the units' grid losses and the joint columns into the account's risk loss.
    /// Compresses the joint scenario columns in place (the worst volatility column per scenario).
    func combine(_ units: UnsafeBufferPointer<UnitRisk>, joint: UnsafeMutableBufferPointer<Double>?, layout: AccountRiskLayout,
                 explain: Bool) -> Combination {
        var c = Combination()
        var basisSum = 0.0
        var uncovered = 0.0
        for unit in units {
            c.gridSum += unit.worstLoss
            basisSum += unit.basis
            if !unit.hasJointScenarios { uncovered += unit.worstLoss }
        }
        c.gridJoint = c.gridSum
        c.gridLoss = c.gridSum
        if let joint, layout.gridColumns > 0 {
            var minimum = basisSum
            for column in 0..<layout.gridColumns { minimum = min(minimum, joint[column]) }
            c.gridJoint = max(0, -minimum)
            let d = parameters.decorrelation
            c.gridLoss = d * c.gridSum + (1 - d) * c.gridJoint
        }
        c.riskLoss = c.gridLoss
        if layout.scenarioCount > 0, units.count == 1, let tail = units[0].jointTail {
            // One unit settled by its book's per-exposure table (``SingleExposureTable``): measured,
            // or bounded by at most the grid loss (the risk loss is then the grid's under `maximum`).
            switch tail {
            case .measured(let valueAtRisk, let expectedShortfall): (c.valueAtRisk, c.expectedShortfall) = (valueAtRisk, expectedShortfall)
            case .atMost(let bound): (c.valueAtRisk, c.expectedShortfall) = (bound, bound)
            }
        } else if let joint, layout.scenarioCount > 0, let set = parameters.historicalSimulation {
            let base = layout.gridColumns, count = layout.scenarioCount
            let rule = JointTail(set)
            var variants: [Int] = explain ? [Int](repeating: 0, count: count) : []
            variants.withUnsafeMutableBufferPointer { rule.compress(joint, base: base, variants: explain ? $0 : nil) }
            let pnl = UnsafeBufferPointer(rebasing: joint[base..<(base + count)])
            let k = set.tailCount
            withUnsafeTemporaryAllocation(of: Int.self, capacity: k) { tail in
                (c.valueAtRisk, c.expectedShortfall) = rule.measure(pnl, tail: tail)
                if explain {
                    c.tail = set.measure == .expectedShortfall ? tail.map { ($0, variants[$0]) } : [(tail[k - 1], variants[tail[k - 1]])]
                }
            }
            if explain {
                let shown = min(10, count)
                var worst = [Int](repeating: 0, count: shown)
                worst.withUnsafeMutableBufferPointer { TailMeasure.selectTail(pnl, into: $0) }
                c.worst = worst.map { ($0, pnl[$0]) }
                if set.source == .monteCarlo { c.standardError = TailMeasure.expectedShortfallStandardError(Array(pnl), confidence: set.confidence) }
            }
        }
        if layout.scenarioCount > 0, let set = parameters.historicalSimulation {
            let measured = set.measure == .expectedShortfall ? c.expectedShortfall : c.valueAtRisk
            let loss = max(0, measured) + uncovered
            c.historicalLoss = loss
            switch set.combination {
            case .maximum: c.riskLoss = max(c.gridLoss, loss)
            case .weighted(let x): c.riskLoss = x * loss + (1 - x) * c.gridLoss
            }
        }
        if c.riskLoss <= 0 {
            c.binding = .none
        } else if let loss = c.historicalLoss, let set = parameters.historicalSimulation {
            if case .weighted = set.combination { c.binding = .blend } else { c.binding = loss > c.gridLoss ? .historical : (c.gridLoss != c.gridSum ? .gridCorrelated : .grid) }
        } else {
            c.binding = c.gridLoss != c.gridSum ? .gridCorrelated : .grid
        }
        return c
    }

    /// Shares `riskLoss` among the units in proportion to their standalone grid losses (evenly when
    /// all are 0) and sets each unit's requirements from its share.
    func allocate(_ riskLoss: Double, to units: UnsafeMutableBufferPointer<UnitRisk>) {
        var total = 0.0
        for unit in units { total += unit.worstLoss }
        for index in units.indices {
            let standalone = units[index].worstLoss
            let share: Double
            if riskLoss == total { share = standalone } else if total > 0 { share = riskLoss * (standalone / total) } else { share = riskLoss / Double(units.count) }
            units[index].allocatedLoss = share
            units[index].maintenanceRequirement = units[index].maintenanceFactor * share + units[index].maintenanceContingency
            units[index].initialRequirement = units[index].initialFactor * share + units[index].initialContingency
        }
    }

    /// The explanation of the combination: worst joint scenarios and each position's part of the tail.
    func explainCombination(_ c: Combination, exposure: AccountExposure, books: [RiskBook], evaluations: [UnitEvaluation]) -> AccountRiskBreakdown {
        var historical: AccountRiskBreakdown.Historical?
        if let loss = c.historicalLoss, let set = parameters.historicalSimulation {
            var order: [String] = []
            var sums: [String: (quantity: Double, pnl: Double)] = [:]
            for (scenario, variant) in c.tail {
                for (index, unit) in exposure.units.enumerated() where evaluations[index].risk.hasJointScenarios {
                    let book = books[index]
                    let column = book.gridScenarioCount + variant * set.scenarioCount + scenario
                    for part in columnContributions(unit, of: exposure, book: book, column: column, linkedValues: evaluations[index].linkedValues) {
                        if sums[part.name] == nil { order.append(part.name) }
                        sums[part.name, default: (part.quantity, 0)].pnl += part.pnl
                    }
                }
            }
            let divisor = Double(max(c.tail.count, 1))
            historical = AccountRiskBreakdown.Historical(
                source: set.source, measure: set.measure, confidence: set.confidence, horizonDays: set.horizonDays,
                scenarioCount: set.scenarioCount, valueAtRisk: c.valueAtRisk, expectedShortfall: c.expectedShortfall, loss: loss,
                standardError: c.standardError,
                worstScenarios: c.worst.map { .init(label: set.labels[$0.scenario], pnl: $0.pnl) },
                contributions: order.map { PositionContribution(name: $0, quantity: sums[$0]!.quantity, pnl: sums[$0]!.pnl / divisor) },
                uncoveredUnderlyings: exposure.units.indices.filter { !evaluations[$0].risk.hasJointScenarios }.map { exposure.units[$0].underlying })
        }
        return AccountRiskBreakdown(gridSum: c.gridSum, gridJoint: c.gridJoint, decorrelation: parameters.decorrelation, gridLoss: c.gridLoss,
                                    historical: historical, riskLoss: c.riskLoss, binding: c.binding)
    }
}
