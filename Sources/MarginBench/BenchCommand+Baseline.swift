import CKernelBaseline
import MarginCore

/// The C baselines (`Sources/CKernelBaseline`) timed in the same run as the Swift kernels, on the
/// same inputs: the Black-76 fill of a book's columns and the aggregation over the book's rows.
extension BenchCommand {
    /// A book's options and columns in the C baseline's layout (structure of arrays). The synthetic
    /// market has no fixed forward portion, linear options only and no skew scenarios, so the C
    /// values equal the book's.
    struct Black76Inputs {
        var forward: [Double] = [], strike: [Double] = [], sign: [Double] = [], scale: [Double] = []
        /// Total volatility σ√T per option: unchanged, then up, then down (`3 × options`).
        var volatility: [Double]
        var shock: [Double] = []
        var variant: [Int32] = []

        init(book: RiskBook) {
            let count = book.instruments.count
            volatility = [Double](repeating: 0, count: 3 * count)
            let rule = book.parameters.volatilityShock
            for (slot, instrument) in book.instruments.enumerated() {
                guard case .option(_, let strike, let right) = instrument.kind else { continue }
                let group = book.expiryGroup(ofSlot: slot)
                let rootT = group.timeToExpiry.squareRoot()
                let sigma = book.markVolatilities[slot]
                forward.append(group.forward)
                self.strike.append(strike)
                sign.append(right == .call ? 1 : -1)
                scale.append(group.discount * instrument.contractSize)
                volatility[slot] = max(sigma * rootT, 1e-150)
                volatility[count + slot] = max(max(rule.minimumVolatilityUp, sigma * group.volatilityUp) * rootT, 1e-150)
                volatility[2 * count + slot] = max(sigma * group.volatilityDown * rootT, 1e-150)
            }
            for scenario in book.scenarios {
                shock.append(scenario.volatilityShock.isSkew ? 1 : scenario.spotShock)
                variant.append(scenario.volatilityShock == .up ? 1 : (scenario.volatilityShock == .down ? 2 : 0))
            }
            // The current value and the basis contingency's moves, as the book's extra columns.
            let basis = book.parameters.basisContingency
            shock += [1, basis?.spotUp ?? 1, basis?.spotDown ?? 1]
            variant += [0, 0, 0]
        }

        /// Fills `out` (`options × stride`, row-major like the book) with the C baseline, vectorised
        /// over options or over columns.
        func fill(into out: UnsafeMutableBufferPointer<Double>, stride: Int, overColumns: Bool) {
            if overColumns {
                ckb_black76_fill_columns(Int64(forward.count), forward, strike, sign, scale, volatility,
                                         Int64(shock.count), shock, variant, out.baseAddress, Int64(stride))
            } else {
                ckb_black76_fill(Int64(forward.count), forward, strike, sign, scale, volatility,
                                 Int64(shock.count), shock, variant, out.baseAddress, Int64(stride))
            }
        }
    }

    /// Best time (s) of the C Black-76 fill of `book`'s options and columns, and the largest
    /// difference from the book's values (valuation units per contract).
    static func cRiskArray(_ book: RiskBook, rounds: Int) -> (seconds: Double, maxDifference: Double) {
        let inputs = Black76Inputs(book: book)
        var out = [Double](repeating: 0, count: book.instruments.count * book.stride)
        // Both layouts of the baseline; the faster is the reference (its values are checked).
        var seconds = Double.infinity
        for overColumns in [false, true] {
            var values = [Double](repeating: 0, count: out.count)
            let time = values.withUnsafeMutableBufferPointer { buffer in
                best(rounds: rounds) { inputs.fill(into: buffer, stride: book.stride, overColumns: overColumns) }
            }
            if time < seconds { (seconds, out) = (time, values) }
        }
        // The largest difference, NaN when either side is (a NaN never hides behind max).
        var difference = 0.0
        func compare(_ c: Double, _ swift: Double) {
            let d = abs(c - swift)
            if !(d <= difference) { difference = d }
        }
        for slot in book.instruments.indices {
            for column in 0..<book.scenarioCount { compare(out[slot * book.stride + column], book.scenarioValue(slot: slot, scenario: column)) }
            compare(out[slot * book.stride + book.currentColumn], book.currentValue(slot: slot))
        }
        return (seconds, difference)
    }

    /// Best time (s) of the C aggregation over `book`'s rows for `accounts` (10 positions each, in
    /// slot order like the Swift holdings), and each account's worst scenario PnL.
    static func cAggregation(_ book: RiskBook, accounts: [Account], rounds: Int) -> (seconds: Double, worst: [Double]) {
        let positions = accounts.first?.positions.count ?? 0
        var offsets: [Int64] = [], quantities: [Double] = []
        for account in accounts {
            precondition(account.positions.count == positions, "the C baseline takes accounts of equal size")
            let held = account.positions.map { (slot: book.slot(of: $0.instrument)!, quantity: $0.quantity) }.sorted { $0.slot < $1.slot }
            offsets += held.map { Int64($0.slot * book.stride) }
            quantities += held.map(\.quantity)
        }
        let dampening = book.scenarios.map(\.dampening)
        var worst = [Double](repeating: 0, count: accounts.count)
        var sink = 0.0
        let seconds = book.withRows { rows in
            worst.withUnsafeMutableBufferPointer { out in
                best(rounds: rounds) {
                    sink += ckb_worst_scenarios(rows.baseAddress, Int64(book.scenarioCount), dampening, Int64(accounts.count),
                                                Int64(positions), offsets, quantities, out.baseAddress)
                }
            }
        }
        precondition(sink.isFinite)
        return (seconds, worst)
    }
}
