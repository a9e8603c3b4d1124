/// Per-tick tables, in a risk book, of the exposures that are one vector times a scale: a single
/// option holding (`q` contracts of one slot) and a delta-one-only unit (notional `N` of futures,
/// perpetuals and linked balances). Every step of the unit aggregation is positively homogeneous
/// in that scale — the per-expiry static discount and skew sign follow the sign of the bucket,
/// the basis is a minimum with 0, the joint tail a selection — so that
/// `PnL(q·row) = |q|·PnL(sign(q)·row)` column by column and `ES(q·row) = |q|·ES(sign(q)·row)`.
/// The table holds, for each slot and sign and for the delta-one vector and sign, the grid
/// columns (before the book's ``ScenarioVectorAdjustment``, which is not homogeneous and is
/// applied per account), the basis value, and the joint scenarios' VaR and ES at unit scale.
/// An account whose only unit is such an exposure then costs its grid columns instead of its
/// thousands of joint columns (``MarginCalculator/aggregateScenarios``). Values agree with the
/// straightforward aggregation to rounding (a few ulps; tested on random books).
struct SingleExposureTable: Sendable {
    /// The grid columns per entry.
    let gridCount: Int
    /// `entries × gridCount` grid PnLs at unit scale (valuation units), entry-major.
    let grid: [Double]
    /// Per entry: the basis-contingency value (≤ 0), VaR and ES of the joint scenarios (losses).
    let basis: [Double]
    let valueAtRisk: [Double]
    let expectedShortfall: [Double]
    /// Entries `2·slot` (long) and `2·slot + 1` (short) for options; the delta-one entries follow.
    let deltaOneEntry: Int

    /// The entry of a single option holding of `quantity` contracts in `slot`.
    @inline(__always)
    func optionEntry(slot: Int, quantity: Double) -> Int { 2 * slot + (quantity < 0 ? 1 : 0) }

    /// The entry of a delta-one notional.
    @inline(__always)
    func deltaOneEntry(notional: Double) -> Int { deltaOneEntry + (notional < 0 ? 1 : 0) }

    /// What the table is built from: the book's rows and per-lane terms, as ``RiskBook`` holds them.
    struct Inputs: Sendable {
        var rows: [Double]
        var stride: Int
        var slotCount: Int
        var currentColumn: Int
        var basisColumns: (up: Int, down: Int)
        var slotExpiry: [Int]
        var expiryFactors: [(positive: Double, negative: Double, basis: Double)]
        var staticDiscount: Bool
        var basisContingency: Bool
        var dampenings: [Double]
        var skewFlags: [Double]
        var deltaOneMoves: [Double]
        var gridCount: Int
        var scenarioCount: Int
    }

    /// Builds the table; slots split into chunks on `parallelism` (each chunk writes only its
    /// slots' entries, with scratch of its own).
    init(_ inputs: Inputs, tail: JointTail, parallelism: Parallelism = .serial) {
        let entries = 2 * inputs.slotCount + 2
        let gridCount = inputs.gridCount
        var grid = [Double](repeating: 0, count: entries * gridCount)
        var basis = [Double](repeating: 0, count: entries)
        var valueAtRisk = [Double](repeating: 0, count: entries)
        var expectedShortfall = [Double](repeating: 0, count: entries)
        grid.withUnsafeMutableBufferPointer { grid in
        basis.withUnsafeMutableBufferPointer { basis in
        valueAtRisk.withUnsafeMutableBufferPointer { valueAtRisk in
        expectedShortfall.withUnsafeMutableBufferPointer { expectedShortfall in
            let out = Output(grid: grid, basis: basis, valueAtRisk: valueAtRisk, expectedShortfall: expectedShortfall, gridCount: gridCount)
            parallelism.forEachChunk(of: inputs.slotCount, minimumChunk: 8) { _, slots in
                Self.fill(slots: slots, deltaOne: false, inputs, tail: tail, into: out)
            }
            Self.fill(slots: 0..<0, deltaOne: true, inputs, tail: tail, into: out)
        }
        }
        }
        }
        self.gridCount = gridCount
        self.grid = grid
        self.basis = basis
        self.valueAtRisk = valueAtRisk
        self.expectedShortfall = expectedShortfall
        self.deltaOneEntry = 2 * inputs.slotCount
    }

    /// Where ``fill(slots:deltaOne:_:tail:into:)`` writes: the table's arrays, by entry (shared by
    /// the chunks of a parallel build, each writing only its slots' entries).
    private struct Output: @unchecked Sendable {
        let grid: UnsafeMutableBufferPointer<Double>
        let basis: UnsafeMutableBufferPointer<Double>
        let valueAtRisk: UnsafeMutableBufferPointer<Double>
        let expectedShortfall: UnsafeMutableBufferPointer<Double>
        let gridCount: Int

        /// One entry from its unit-scale PnL columns (compressed in place by the tail measure).
        func record(_ entry: Int, _ pnl: UnsafeMutableBufferPointer<Double>, tail: JointTail) {
            for column in 0..<gridCount { grid[entry * gridCount + column] = pnl[column] }
            (valueAtRisk[entry], expectedShortfall[entry]) = tail.measure(compressing: pnl, base: gridCount)
        }
    }

    /// The entries of `slots` (both signs), and with `deltaOne` the delta-one entries.
    private static func fill(slots: Range<Int>, deltaOne: Bool, _ inputs: Inputs, tail: JointTail, into output: Output) {
        let lanes = DoubleLanes.scalarCount
        let padded = (inputs.scenarioCount + lanes - 1) / lanes * lanes
        withUnsafeTemporaryAllocation(of: Double.self, capacity: padded) { pnl in
        pnl.initialize(repeating: 0)
        inputs.rows.withUnsafeBufferPointer { rows in
        inputs.dampenings.withUnsafeBufferPointer { damps in
        inputs.skewFlags.withUnsafeBufferPointer { skews in
            let out = pnl.baseAddress!, dampsBase = damps.baseAddress!, skewsBase = skews.baseAddress!
            for slot in slots {
                let row = rows.baseAddress! + slot * inputs.stride
                let factors = inputs.expiryFactors[inputs.slotExpiry[slot]]
                for sign in [1.0, -1.0] {
                    // The bucket of one holding of `sign` contracts, as ScenarioAggregation.aggregate forms it.
                    let current = DoubleLanes(repeating: sign * row[inputs.currentColumn])
                    let positive = DoubleLanes(repeating: factors.positive), negative = DoubleLanes(repeating: factors.negative)
                    var offset = 0
                    while offset < padded {
                        let shocked = DoubleLanes(repeating: sign) * ScenarioAggregation.load(row + offset)
                        let value = ExpiryBucketRule.pnl(shocked: shocked, current: current, positive: positive, negative: negative,
                                                         discount: inputs.staticDiscount, dampening: ScenarioAggregation.load(dampsBase + offset),
                                                         skew: ScenarioAggregation.load(skewsBase + offset))
                        ScenarioAggregation.store(value, out + offset)
                        offset += lanes
                    }
                    let entry = 2 * slot + (sign < 0 ? 1 : 0)
                    if inputs.basisContingency {
                        output.basis[entry] = ExpiryBucketRule.basis(up: sign * row[inputs.basisColumns.up] - current[0],
                                                                     down: sign * row[inputs.basisColumns.down] - current[0], factor: factors.basis)
                    }
                    output.record(entry, pnl, tail: tail)
                }
            }
            guard deltaOne else { return }
            for sign in [1.0, -1.0] {
                for column in 0..<inputs.scenarioCount { out[column] = sign * inputs.deltaOneMoves[column] * dampsBase[column] }
                output.record(2 * inputs.slotCount + (sign < 0 ? 1 : 0), pnl, tail: tail)
            }
        }
        }
        }
        }
    }
}
