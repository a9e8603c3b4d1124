import Foundation
import MarginCore

extension MarginEngine {
    /// `transform` over `items` in order, in chunks of at least `minimumChunk` items spread over
    /// `parallelism` (every core by default) when there is enough work
    /// (``Parallelism/chunkCount(items:minimumChunk:)``).
    public static func parallelMap<Item: Sendable, Output: Sendable>(_ items: [Item], minimumChunk: Int = 64, on parallelism: Parallelism = .cores,
                                                                _ transform: @Sendable (Item) -> Output) -> [Output] {
        let chunkCount = parallelism.chunkCount(items: items.count, minimumChunk: minimumChunk)
        if chunkCount == 1 { return items.map(transform) }
        var results = [[Output]](repeating: [], count: chunkCount)
        results.withUnsafeMutableBufferPointer { buffer in
            let output = DisjointWrites(buffer)
            parallelism.forEachChunk(of: items.count, minimumChunk: minimumChunk) { chunk, range in
                output.buffer[chunk] = items[range].map(transform)
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
