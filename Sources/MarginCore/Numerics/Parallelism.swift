/// How a MarginCore computation may spread independent iterations over threads.
///
/// MarginCore starts no threads of its own: the caller says what iterations run on (the worker's
/// engine passes its cores, through `DispatchQueue.concurrentPerform`); ``serial``, the default
/// everywhere, runs them in order on the calling thread. Every use writes each iteration's output
/// to a place of its own and reads nothing another iteration writes, so results are the same bit
/// for bit whatever the schedule (tested against ``serial``, and against the iterations in reverse).
public struct Parallelism: Sendable {
    /// Threads the iterations may run on at once (1 for ``serial``).
    public let width: Int
    @usableFromInline let perform: @Sendable (_ iterations: Int, _ body: @Sendable (Int) -> Void) -> Void

    /// A strategy that runs `iterations` calls of `body` (each index in `0..<iterations` once, in
    /// any order, on up to `width` threads) and returns when all are done.
    public init(width: Int, perform: @escaping @Sendable (_ iterations: Int, _ body: @Sendable (Int) -> Void) -> Void) {
        self.width = max(1, width)
        self.perform = perform
    }

    /// In order, on the calling thread.
    public static let serial = Parallelism(width: 1) { iterations, body in
        for index in 0..<iterations { body(index) }
    }

    /// Chunks per thread when splitting work: enough that a thread delayed by other work (an HTTP
    /// request, a Kafka thread, another process) leaves its remaining chunks to the others instead
    /// of making the whole computation wait for it (`concurrentPerform` hands iterations to
    /// whichever thread is free). With one chunk per core, a core that lost 5 ms to a what-if
    /// delayed the worker's pass by 5 ms while the other core idled.
    public static let chunksPerThread = 16

    /// How many chunks `items` units of work split into: one when serial or with too little work,
    /// else as many as there are `minimumChunk`s of work, at most ``chunksPerThread`` a thread.
    @inlinable
    public func chunkCount(items: Int, minimumChunk: Int) -> Int {
        width <= 1 ? 1 : max(1, min(width * Self.chunksPerThread, items / max(1, minimumChunk)))
    }

    /// Calls `body` once for each index in `0..<iterations`, possibly at once on ``width`` threads;
    /// returns when all calls have.
    @inlinable
    public func forEach(_ iterations: Int, _ body: @Sendable (Int) -> Void) {
        if width <= 1 || iterations <= 1 {
            for index in 0..<iterations { body(index) }
        } else {
            perform(iterations, body)
        }
    }

    /// Calls `body` with consecutive, disjoint ranges covering `0..<items`
    /// (``chunkCount(items:minimumChunk:)`` of them, the `chunk`-th starting at `chunk · size`),
    /// possibly at once.
    @inlinable
    public func forEachChunk(of items: Int, minimumChunk: Int, _ body: @Sendable (_ chunk: Int, _ range: Range<Int>) -> Void) {
        let chunks = chunkCount(items: items, minimumChunk: minimumChunk)
        let size = (items + chunks - 1) / max(1, chunks)
        forEach(chunks) { chunk in
            let range = min(items, chunk * size)..<min(items, (chunk + 1) * size)
            if !range.isEmpty { body(chunk, range) }
        }
    }
}

/// A buffer that the iterations of a parallel loop write at disjoint indices (each index by one
/// iteration only, nothing read that another writes), which is what makes sharing it sound.
public struct DisjointWrites<Element>: @unchecked Sendable {
    public let buffer: UnsafeMutableBufferPointer<Element>
    public init(_ buffer: UnsafeMutableBufferPointer<Element>) { self.buffer = buffer }
}
