import Foundation
@testable import MarginCore
import Synchronization
import Testing

/// Risk books built on several threads against the serial build: the same rows and per-exposure
/// tables bit for bit, on real threads and with the chunks run in reverse order.
@Suite struct ParallelismTests {
    /// Chunks in reverse order on the calling thread: a schedule no serial build follows.
    static let reversed = Parallelism(width: 3) { iterations, body in
        for index in (0..<iterations).reversed() { body(index) }
    }

    static let threads = Parallelism(width: 4) { iterations, body in
        DispatchQueue.concurrentPerform(iterations: iterations, execute: body)
    }

    @Test(arguments: [1, 2, 7, 8, 255, 256, 257, 6_143])
    func chunksCoverEveryItemOnce(items: Int) {
        for minimumChunk in [1, 8, 256] {
            let seen = Mutex([Int](repeating: 0, count: items))
            Self.threads.forEachChunk(of: items, minimumChunk: minimumChunk) { _, range in
                seen.withLock { for index in range { $0[index] += 1 } }
            }
            #expect(seen.withLock { $0.allSatisfy { $0 == 1 } }, "\(items) items in chunks of at least \(minimumChunk)")
        }
    }

    @Test(arguments: [false, true])
    func booksBuiltInParallelEqualTheSerialBuild(rules: Bool) throws {
        let (calculator, markets, catalog) = SingleExposureTableTests.calculator(rules: rules, volatilityTreatment: .worstOfGrid)
        let asOf = markets["BTC"]!.timestampMs
        let serial = try calculator.riskBook(for: "BTC", catalog: catalog, markets: markets, asOfMs: asOf)
        let serialTable = try #require(serial.singleExposures)
        // Several chunks of columns and of slots, or the comparison would not exercise the split.
        #expect(Self.threads.chunkCount(items: serial.scenarioCount + 3, minimumChunk: 256) > 1)
        #expect(Self.threads.chunkCount(items: serial.instruments.count, minimumChunk: 8) > 1)
        for parallelism in [Self.reversed, Self.threads] {
            // Built from scratch and as a tick rebuilds it (reusing the previous layout).
            for previous in [nil, serial] {
                let book = try calculator.riskBook(for: "BTC", catalog: catalog, markets: markets, asOfMs: asOf, reusing: previous,
                                                   parallelism: parallelism)
                #expect(book.values == serial.values)
                let table = try #require(book.singleExposures)
                #expect(table.grid == serialTable.grid)
                #expect(table.basis == serialTable.basis)
                #expect(table.valueAtRisk == serialTable.valueAtRisk)
                #expect(table.expectedShortfall == serialTable.expectedShortfall)
            }
        }
    }
}
