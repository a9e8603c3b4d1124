import Foundation

extension MarginEngine {
    /// `transform` over `items` in order, in chunks on every core when there is enough work.
    public static func parallelMap<Item: Sendable, Output: Sendable>(_ items: [Item], minimumChunk: Int = 64,
                                                                _ transform: @Sendable (Item) -> Output) -> [Output] {
        let chunkCount = max(1, min(ProcessInfo.processInfo.activeProcessorCount, items.count / minimumChunk))
        if chunkCount == 1 { return items.map(transform) }
        var results = [[Output]](repeating: [], count: chunkCount)
        let chunkSize = (items.count + chunkCount - 1) / chunkCount
        results.withUnsafeMutableBufferPointer { buffer in
            let output = UncheckedBuffer(buffer)
            DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
                let range = (chunk * chunkSize)..<min(items.count, (chunk + 1) * chunkSize)
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
