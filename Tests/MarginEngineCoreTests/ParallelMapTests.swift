import Foundation
import MarginCore
@testable import MarginEngineCore
import Testing

/// The pass's parallel map: many small chunks handed to whichever core is free, the output in the
/// input's order whatever the chunking.
@Suite("Parallel map")
struct ParallelMapTests {
    /// Two threads whatever the machine has, so that the chunked path runs on one core too.
    static let twoThreads = Parallelism(width: 2) { iterations, body in
        DispatchQueue.concurrentPerform(iterations: iterations, execute: body)
    }

    /// A strategy of `width` threads that is only asked how it would chunk.
    static func width(_ width: Int) -> Parallelism { Parallelism(width: width) { _, _ in } }

    @Test("Every item once, in order, at sizes around the chunk boundaries", arguments: [0, 1, 63, 64, 65, 127, 128, 129, 2_047, 2_049, 4_097, 100_003])
    func order(count: Int) {
        let items = Array(0..<count)
        for parallelism in [Parallelism.cores, Self.twoThreads] {
            #expect(MarginEngine.parallelMap(items, on: parallelism) { $0 * 3 + 1 } == items.map { $0 * 3 + 1 })
            #expect(MarginEngine.parallelMap(items, minimumChunk: 1, on: parallelism) { $0 } == items)
        }
    }

    @Test("Chunks with any number of outputs per item joined in order", arguments: [0, 1, 65, 129, 4_097])
    func chunks(count: Int) {
        let items = Array(0..<count)
        let expected = items.flatMap { Array(repeating: $0, count: $0 % 3) }
        for parallelism in [Parallelism.cores, Self.twoThreads] {
            #expect(MarginEngine.parallelChunks(items, on: parallelism) { $0.flatMap { Array(repeating: $0, count: $0 % 3) } } == expected)
        }
    }

    @Test("Many chunks a core once there is work for them; one with little work or one core")
    func chunking() {
        #expect(Self.width(2).chunkCount(items: 100_000, minimumChunk: 64) == 2 * Parallelism.chunksPerThread)
        #expect(Self.width(2).chunkCount(items: 640, minimumChunk: 64) == 10)
        #expect(Self.width(2).chunkCount(items: 100, minimumChunk: 64) == 1)
        #expect(Self.width(1).chunkCount(items: 100_000, minimumChunk: 64) == 1)
        #expect(Self.width(8).chunkCount(items: 0, minimumChunk: 64) == 1)
        #expect(Parallelism.serial.chunkCount(items: 100_000, minimumChunk: 64) == 1)
    }
}
