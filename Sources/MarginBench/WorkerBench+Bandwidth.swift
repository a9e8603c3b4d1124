import Foundation
import MarginCore

/// The memory-bandwidth bound of a tick: how many bytes the re-margin pass streams, against what
/// this machine reads per second.
extension WorkerBench {
    /// Read bandwidth (bytes/s): the best of three sums over a 512 MiB array (far beyond the
    /// caches), two threads, as the pass runs on every core.
    static func readBandwidth() -> Double {
        let count = 64 << 20 // doubles: 512 MiB
        let data = UnsafeMutableBufferPointer<Double>.allocate(capacity: count)
        defer { data.deallocate() }
        data.initialize(repeating: 1)
        let threads = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let chunk = count / threads
        let base = UncheckedPointer(data.baseAddress!)
        var best = Double.infinity
        for _ in 0..<3 {
            let start = ContinuousClock.now
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                var sum = DoubleLanes.zero
                var index = thread * chunk
                let end = index + chunk
                while index + 4 <= end {
                    sum += UnsafeRawPointer(base.pointer + index).loadUnaligned(as: DoubleLanes.self)
                    index += 4
                }
                if sum.sum() < 0 { print("") } // keep the sum alive
            }
            best = min(best, seconds(ContinuousClock.now - start))
        }
        return Double(threads * chunk * 8) / best
    }

    /// An estimate of the bytes a BTC tick's pass reads from the risk book (valuation units, 8 bytes a
    /// column): per account, every option holding's row up to the current value and the account's
    /// joint columns written and read back, or only the grid columns of the book's per-exposure table
    /// for a single option or delta-one only account. Account state itself (≈ 1 KB) is not counted.
    static func tickBytesEstimate(accounts: [Account], catalog: InstrumentCatalog, parameters: RiskParameters) -> Double {
        guard let unit = parameters.bookParameters(for: "BTC") else { return 0 }
        let columns = unit.scenarios.count
        let grid = unit.scenarios.firstIndex { $0.kind == .historical } ?? columns
        let joint = columns - grid
        var bytes = 0.0
        for account in accounts {
            // A risk-linked BTC balance is delta-one exposure as well.
            var options = 0, deltaOne = (account.balances["BTC"] ?? 0) != 0 ? 1 : 0
            for position in account.positions {
                guard let instrument = catalog[position.instrument], instrument.underlying == "BTC" else { continue }
                if case .option = instrument.kind { options += 1 } else { deltaOne += 1 }
            }
            let single = joint > 0 && ((options == 1 && deltaOne == 0) || options == 0)
            bytes += single ? Double(grid * 8) : Double(options * (columns + 1) * 8 + 2 * joint * 8)
        }
        return bytes
    }
}

/// A pointer shared with `concurrentPerform` threads that only read through it.
struct UncheckedPointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Double>
    init(_ pointer: UnsafeMutablePointer<Double>) { self.pointer = pointer }
}
