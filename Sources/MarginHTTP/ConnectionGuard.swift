import Hummingbird
import HummingbirdCore
import Metrics
import NIOCore
import NIOHTTPTypes
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A cap on open HTTP connections, so that a connection flood costs refused connections and never
/// the file descriptors the process needs for Kafka and its runtime. A connection past the cap is
/// accepted and closed at once (the kernel's backlog holds the rest); `accept` itself backs off on
/// EMFILE/ENFILE (SwiftNIO's `AcceptBackoffHandler`).
///
/// Metrics: `margin_http_connections` (open now), `margin_http_connections_refused_total`.
final class ConnectionLimit: Sendable {
    /// Most connections open at once.
    let limit: Int
    private let open = Atomic<Int>(0)
    private let openGauge: Gauge
    private let refusedCounter: Counter

    init(limit: Int, instance: String) {
        self.limit = max(1, limit)
        openGauge = Gauge(label: "margin_http_connections", dimensions: [("instance", instance)])
        refusedCounter = Counter(label: "margin_http_connections_refused_total", dimensions: [("instance", instance)])
    }

    /// File descriptors kept out of the HTTP server's reach: Kafka's sockets and wake-up pipes
    /// (a few per broker and client), the runtime's event and timer descriptors, log and resource
    /// files, with room to spare.
    static let reservedDescriptors = 128

    /// The effective cap: `configured`, lowered to leave ``reservedDescriptors`` of the process's
    /// open-file limit (soft `RLIMIT_NOFILE`) for everything else; at least 8.
    static func effective(configured: Int, fileLimit: Int? = FileDescriptorLimit.current()?.soft) -> Int {
        guard let fileLimit else { return configured }
        return max(8, min(configured, fileLimit - reservedDescriptors))
    }

    /// Takes a place for a new connection; false (counted as refused) when the cap is reached.
    func admit() -> Bool {
        var current = open.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = open.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
            if exchanged {
                openGauge.record(current + 1)
                return true
            }
            current = original
        }
        refusedCounter.increment()
        return false
    }

    /// Gives a closed connection's place back.
    func leave() {
        let now = open.subtract(1, ordering: .acquiringAndReleasing).newValue
        openGauge.record(now)
    }

    var openCount: Int { open.load(ordering: .relaxed) }
}

/// The per-connection side of ``ConnectionLimit``: takes a place when the connection's pipeline is
/// built, closes the connection at once when there is none, gives the place back when it closes.
final class ConnectionGuardHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let limit: ConnectionLimit
    private var admitted = false
    private var refused = false

    init(_ limit: ConnectionLimit) { self.limit = limit }

    func handlerAdded(context: ChannelHandlerContext) {
        admitted = limit.admit()
        refused = !admitted
        if refused, context.channel.isActive { context.close(promise: nil) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if refused {
            context.close(promise: nil)
            return
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A refused connection's bytes never reach the router.
        guard !refused else { return }
        context.fireChannelRead(data)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if admitted {
            admitted = false
            limit.leave()
        }
    }
}

/// The process's open-file limits (`RLIMIT_NOFILE`).
public enum FileDescriptorLimit {
    public static func current() -> (soft: Int, hard: Int)? {
        var limit = rlimit()
        guard getrlimit(Self.resource, &limit) == 0 else { return nil }
        return (Self.count(limit.rlim_cur), Self.count(limit.rlim_max))
    }

    /// Raises the soft limit to the hard one (as Go's runtime does at start): the soft default
    /// (often 1,024) is a convention for `select`, which nothing here uses. Returns the limits now
    /// in force, or the error number when the raise is refused.
    public static func raiseSoftToHard() -> Result<(soft: Int, hard: Int), Errno> {
        var limit = rlimit()
        guard getrlimit(Self.resource, &limit) == 0 else { return .failure(Errno(errno)) }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            guard setrlimit(Self.resource, &limit) == 0 else { return .failure(Errno(errno)) }
        }
        return .success((Self.count(limit.rlim_cur), Self.count(limit.rlim_max)))
    }

    /// An `errno` value.
    public struct Errno: Error, CustomStringConvertible {
        let code: Int32
        init(_ code: Int32) { self.code = code }
        public var description: String { String(cString: strerror(code)) }
    }

    private static func count(_ value: rlim_t) -> Int { value >= rlim_t(Int.max) ? Int.max : Int(value) }

    #if os(Linux)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif
}
