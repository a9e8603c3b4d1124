import Foundation
import MarginCore

extension MarginEngine {
    /// `transform` over `items` in order, in chunks of at least `minimumChunk` items spread over
    /// `parallelism` (every core by default) when there is enough work
    /// (``Parallelism/chunkCount(items:minimumChunk:)``).
    public static func parallelMap<Item: Sendable, Output: Sendable>(_ items: [Item], minimumChunk: Int = 64, on parallelism: Parallelism = .cores,
                                                                _ transform: @Sendable (Item) -> Output) -> [Output] {
        parallelChunks(items, minimumChunk: minimumChunk, on: parallelism) { $0.map(transform) }
    }

    /// `transform` over consecutive slices of `items`, chunked as ``parallelMap(_:minimumChunk:on:_:)``
    /// chunks them, the outputs joined in order: for work with any number of outputs per item,
    /// built into one array per chunk.
    public static func parallelChunks<Item: Sendable, Output: Sendable>(_ items: [Item], minimumChunk: Int = 64, on parallelism: Parallelism = .cores,
                                                                   _ transform: @Sendable (ArraySlice<Item>) -> [Output]) -> [Output] {
        let chunkCount = parallelism.chunkCount(items: items.count, minimumChunk: minimumChunk)
        if chunkCount == 1 { return transform(items[...]) }
        var results = [[Output]](repeating: [], count: chunkCount)
        results.withUnsafeMutableBufferPointer { buffer in
            let output = DisjointWrites(buffer)
            parallelism.forEachChunk(of: items.count, minimumChunk: minimumChunk) { chunk, range in
                output.buffer[chunk] = transform(items[range])
            }
        }
        return results.flatMap { $0 }
    }
}

extension Parallelism {
    /// Every core of the machine, through `DispatchQueue.concurrentPerform`: what the engine runs
    /// its passes and builds its risk books on, and the publisher encodes on.
    public static let cores = Parallelism(width: ProcessInfo.processInfo.activeProcessorCount) { iterations, body in
        DispatchQueue.concurrentPerform(iterations: iterations, execute: body)
    }
}
