import Testing
@testable import MarginEngineCore

/// The pass's parallel map: many small chunks handed to whichever core is free, the output in the
/// input's order whatever the chunking.
@Suite("Parallel map")
struct ParallelMapTests {
    @Test("Every item once, in order, at sizes around the chunk boundaries", arguments: [0, 1, 63, 64, 65, 127, 128, 129, 2_047, 2_049, 4_097, 100_003])
    func order(count: Int) {
        let items = Array(0..<count)
        #expect(MarginEngine.parallelMap(items) { $0 * 3 + 1 } == items.map { $0 * 3 + 1 })
        #expect(MarginEngine.parallelMap(items, minimumChunk: 1) { $0 } == items)
    }

    @Test("Many chunks a core once there is work for them; one with little work or one core")
    func chunking() {
        #expect(MarginEngine.chunkCount(items: 100_000, minimumChunk: 64, cores: 2) == 2 * MarginEngine.chunksPerCore)
        #expect(MarginEngine.chunkCount(items: 640, minimumChunk: 64, cores: 2) == 10)
        #expect(MarginEngine.chunkCount(items: 100, minimumChunk: 64, cores: 2) == 1)
        #expect(MarginEngine.chunkCount(items: 100_000, minimumChunk: 64, cores: 1) == 1)
        #expect(MarginEngine.chunkCount(items: 0, minimumChunk: 64, cores: 8) == 1)
    }
}
