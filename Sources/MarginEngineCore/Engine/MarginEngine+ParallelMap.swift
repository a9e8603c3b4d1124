import Foundation

extension MarginEngine {
    /// Chunks per core of a parallel map: enough that a core delayed by other work (an HTTP
    /// request, a Kafka thread, another process) leaves its remaining chunks to the others instead
    /// of making the whole pass wait for it (`concurrentPerform` hands iterations to whichever
    /// thread is free). With one chunk per core, a core that lost 5 ms to a what-if delayed the
    /// pass by 5 ms while the other core idled.
    static let chunksPerCore = 16

    /// How many chunks a parallel map of `items` uses: one on one core or with too little work,
    /// else as many as there are `minimumChunk`s of work, at most `chunksPerCore` a core.
    static func chunkCount(items: Int, minimumChunk: Int, cores: Int) -> Int {
        cores <= 1 ? 1 : max(1, min(cores * chunksPerCore, items / max(1, minimumChunk)))
    }

    /// `transform` over `items` in order, in chunks of at least `minimumChunk` items spread over
    /// every core when there is enough work.
    public static func parallelMap<Item: Sendable, Output: Sendable>(_ items: [Item], minimumChunk: Int = 64,
                                                                _ transform: @Sendable (Item) -> Output) -> [Output] {
        let chunkCount = chunkCount(items: items.count, minimumChunk: minimumChunk, cores: ProcessInfo.processInfo.activeProcessorCount)
        if chunkCount == 1 { return items.map(transform) }
        var results = [[Output]](repeating: [], count: chunkCount)
        let chunkSize = (items.count + chunkCount - 1) / chunkCount
        results.withUnsafeMutableBufferPointer { buffer in
            let output = UncheckedBuffer(buffer)
            DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
                let range = min(items.count, chunk * chunkSize)..<min(items.count, (chunk + 1) * chunkSize)
                output.buffer[chunk] = items[range].map(transform)
            }
        }
        return results.flatMap { $0 }
    }
}

/// A buffer written by disjoint indices from `concurrentPerform`.
struct UncheckedBuffer<T>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<T>
    init(_ buffer: UnsafeMutableBufferPointer<T>) { self.buffer = buffer }
}
