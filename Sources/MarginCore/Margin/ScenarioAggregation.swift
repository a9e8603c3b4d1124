/// The account-side hot loop: scenario PnL of one risk unit from the risk arrays, with no
/// allocation, no reference counting and SIMD multiply-adds over contiguous rows.
enum ScenarioAggregation {
    @inline(__always)
    static func load(_ pointer: UnsafePointer<Double>) -> DoubleLanes {
        UnsafeRawPointer(pointer).loadUnaligned(as: DoubleLanes.self)
    }

    @inline(__always)
    static func store(_ value: DoubleLanes, _ pointer: UnsafeMutablePointer<Double>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: DoubleLanes.self)
    }

    /// `bucket = Σ quantity × row` over `holdings[from..<to]`, chunks `firstChunk..<rowChunks`: four chunks at a time in
    /// registers (four independent multiply-add chains in flight), then the remaining chunks.
    @inline(__always)
    static func sumRows(_ holdings: UnsafeBufferPointer<AccountExposure.OptionHolding>, from: Int, to: Int, firstChunk: Int = 0, rowChunks: Int,
                        rows: UnsafePointer<Double>, into bucket: UnsafeMutablePointer<Double>) {
        let lanes = DoubleLanes.scalarCount
        var chunk = firstChunk
        while chunk + 4 <= rowChunks {
            let offset = chunk * lanes
            var a0 = DoubleLanes.zero, a1 = DoubleLanes.zero, a2 = DoubleLanes.zero, a3 = DoubleLanes.zero
            for i in from..<to {
                let q = DoubleLanes(repeating: holdings[i].quantity)
                let row = rows + (holdings[i].rowOffset + offset)
                a0 = a0.addingProduct(q, load(row))
                a1 = a1.addingProduct(q, load(row + lanes))
                a2 = a2.addingProduct(q, load(row + 2 * lanes))
                a3 = a3.addingProduct(q, load(row + 3 * lanes))
            }
            store(a0, bucket + offset)
            store(a1, bucket + offset + lanes)
            store(a2, bucket + offset + 2 * lanes)
            store(a3, bucket + offset + 3 * lanes)
            chunk += 4
        }
        // Up to three remaining chunks, still as independent chains.
        let remaining = rowChunks - chunk
        if remaining > 0 {
            let offset = chunk * lanes
            var a0 = DoubleLanes.zero, a1 = DoubleLanes.zero, a2 = DoubleLanes.zero
            for i in from..<to {
                let q = DoubleLanes(repeating: holdings[i].quantity)
                let row = rows + (holdings[i].rowOffset + offset)
                a0 = a0.addingProduct(q, load(row))
                if remaining > 1 { a1 = a1.addingProduct(q, load(row + lanes)) }
                if remaining > 2 { a2 = a2.addingProduct(q, load(row + 2 * lanes)) }
            }
            store(a0, bucket + offset)
            if remaining > 1 { store(a1, bucket + offset + lanes) }
            if remaining > 2 { store(a2, bucket + offset + 2 * lanes) }
        }
    }

    /// Fills `total` (padded scenario count) with the unit's scenario PnL and returns the current
    /// value of the options and the basis-contingency value (≤ 0).
    ///
    /// - Parameters:
    ///   - holdings: option holdings sorted by slot (grouped by expiry).
    ///   - deltaOneNotional: notional of futures, perpetuals and linked balances (valuation units).
    ///   - deltaOneValue: their current value (valuation units); it moves only in a coin-margined
    ///     book (``RiskBook/valuationFollowsUnderlying``).
    ///   - gridOnly: fill only the grid's columns of `total` (and read only those of the rows, with
    ///     the current value and the basis columns); the joint scenario columns are left as they are.
    ///   - bucket: scratch of `book.stride` doubles.
    static func aggregate(book: RiskBook, holdings: UnsafeBufferPointer<AccountExposure.OptionHolding>, deltaOneNotional: Double,
                          deltaOneValue: Double = 0, gridOnly: Bool = false, total: UnsafeMutableBufferPointer<Double>,
                          bucket: UnsafeMutableBufferPointer<Double>) -> (value: Double, basis: Double) {
        let lanes = DoubleLanes.scalarCount
        let current = book.currentColumn
        // Grid only: the grid's chunks of `total`, and of each row the grid's chunks and those of the
        // current value and the basis columns (the joint scenario columns between are skipped).
        let gridChunks = (book.gridScenarioCount + lanes - 1) / lanes
        let chunks = gridOnly ? gridChunks : book.paddedScenarioCount / lanes
        let rowChunks = book.stride / lanes
        let tailChunk = current / lanes
        func sum(from: Int, to: Int, rowChunks: Int, rows: UnsafePointer<Double>, into bucket: UnsafeMutablePointer<Double>) {
            if gridOnly && tailChunk > gridChunks {
                sumRows(holdings, from: from, to: to, rowChunks: gridChunks, rows: rows, into: bucket)
                sumRows(holdings, from: from, to: to, firstChunk: tailChunk, rowChunks: rowChunks, rows: rows, into: bucket)
            } else {
                sumRows(holdings, from: from, to: to, rowChunks: rowChunks, rows: rows, into: bucket)
            }
        }
        let hasStaticDiscount = book.parameters.staticDiscount != nil
        let hasBasis = book.parameters.basisContingency != nil
        var optionValue = 0.0
        var basis = 0.0
        let totalBase = total.baseAddress!
        let bucketBase = bucket.baseAddress!
        book.deltaOneMoves.withUnsafeBufferPointer { moves in
        book.valueMoves.withUnsafeBufferPointer { valueMoves in
        book.dampenings.withUnsafeBufferPointer { damps in
        book.skewFlags.withUnsafeBufferPointer { skews in
        book.slotExpiry.withUnsafeBufferPointer { slotExpiry in
        book.expiryFactors.withUnsafeBufferPointer { factors in
        book.withRows { rows in
            let movesBase = moves.baseAddress!, valueMovesBase = valueMoves.baseAddress!
            let dampsBase = damps.baseAddress!, skewsBase = skews.baseAddress!
            let rowBase = rows.baseAddress!
            let basisUpColumn = book.basisUpColumn, basisDownColumn = book.basisDownColumn
            // Delta-one exposure: (notional × move + value × value move) × dampening (``RiskBook/deltaOneMoves``).
            let notional = DoubleLanes(repeating: deltaOneNotional)
            let coinMargined = book.valuationFollowsUnderlying && deltaOneValue != 0
            let value = DoubleLanes(repeating: deltaOneValue)
            let perExpiry = hasStaticDiscount || hasBasis || book.hasSkewScenarios
            if !perExpiry {
                // Linear case: one bucket of all holdings, then one fused pass
                // total = (notional × move + Σ q·row − Σ q·current) × dampening.
                // Only the scenario columns and the current value are needed here.
                let neededChunks = (current + lanes) / lanes
                sum(from: 0, to: holdings.count, rowChunks: neededChunks, rows: rowBase, into: bucketBase)
                let mtm = bucketBase[current]
                optionValue = mtm
                let mtmLanes = DoubleLanes(repeating: mtm)
                for chunk in 0..<chunks {
                    let offset = chunk * lanes
                    var shocked = load(bucketBase + offset).addingProduct(notional, load(movesBase + offset))
                    if coinMargined { shocked = shocked.addingProduct(value, load(valueMovesBase + offset)) }
                    store((shocked - mtmLanes) * load(dampsBase + offset), totalBase + offset)
                }
                return
            }
            for chunk in 0..<chunks {
                let offset = chunk * lanes
                var move = notional * load(movesBase + offset)
                if coinMargined { move = move.addingProduct(value, load(valueMovesBase + offset)) }
                store(move * load(dampsBase + offset), totalBase + offset)
            }
            // Per expiry: static discounting, skew sign and basis act on each expiry's bucket.
            RiskBook.forEachExpiryRun(holdings, expiry: { slotExpiry[$0] }) { run, group in
                sum(from: run.lowerBound, to: run.upperBound, rowChunks: rowChunks, rows: rowBase, into: bucketBase)
                let expiry = factors[group]
                let mtm = bucketBase[current]
                optionValue += mtm
                let mtmLanes = DoubleLanes(repeating: mtm)
                let positive = DoubleLanes(repeating: expiry.positive)
                let negative = DoubleLanes(repeating: expiry.negative)
                for chunk in 0..<chunks {
                    let offset = chunk * lanes
                    let pnl = ExpiryBucketRule.pnl(shocked: load(bucketBase + offset), current: mtmLanes, positive: positive, negative: negative,
                                                   discount: hasStaticDiscount, dampening: load(dampsBase + offset), skew: load(skewsBase + offset))
                    store(load(totalBase + offset) + pnl, totalBase + offset)
                }
                if hasBasis {
                    basis += ExpiryBucketRule.basis(up: bucketBase[basisUpColumn] - mtm, down: bucketBase[basisDownColumn] - mtm, factor: expiry.basis)
                }
            }
        }
        }
        }
        }
        }
        }
        }
        return (optionValue, basis)
    }

    /// Applies the book's ``RiskBook/adjustment`` (extended dampener, gain credit) to the grid
    /// columns it acts on, in place.
    @inline(__always)
    static func adjust(_ total: UnsafeMutableBufferPointer<Double>, book: RiskBook) {
        let adjustment = book.adjustment
        for (column, tail) in book.adjustedColumns { total[column] = adjustment.adjusted(total[column], tail: tail) }
    }

    /// The book's adjustment applied to the grid columns of `total`, then the worst grid scenario
    /// against `floor` (``worst(_:count:floor:)``): a unit's worst grid PnL.
    @inline(__always)
    static func worstGrid(_ total: UnsafeMutableBufferPointer<Double>, book: RiskBook, floor: Double) -> (value: Double, index: Int) {
        adjust(total, book: book)
        return worst(total, count: book.gridScenarioCount, floor: floor)
    }

    /// The smallest of `total[0..<count]` and `floor`, and the index of its first occurrence in
    /// `total` (−1 when no scenario is below `floor`, which wins ties): SIMD minimum, then one
    /// scan for the index.
    @inline(__always)
    static func worst(_ total: UnsafeMutableBufferPointer<Double>, count: Int, floor: Double) -> (value: Double, index: Int) {
        let lanes = DoubleLanes.scalarCount
        let base = UnsafePointer(total.baseAddress!)
        var minimumLanes = DoubleLanes(repeating: floor)
        var offset = 0
        while offset + lanes <= count {
            minimumLanes = VectorMath.minimum(minimumLanes, load(base + offset))
            offset += lanes
        }
        var minimum = minimumLanes[0]
        for lane in 1..<lanes { minimum = Swift.min(minimum, minimumLanes[lane]) }
        while offset < count {
            minimum = Swift.min(minimum, base[offset])
            offset += 1
        }
        guard minimum < floor else { return (floor, -1) }
        var index = 0
        while base[index] != minimum { index += 1 }
        return (minimum, index)
    }
}
