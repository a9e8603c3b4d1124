import EngineTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import MarginCore
import MarginEngineCore
import MarginWorker
import Testing
@testable import MarginHTTP

/// Request cost bounded before decoding: the count pre-scan refuses bodies with too many
/// positions, balances or open orders, and counts only what it should.
@Suite("Entry counts before decoding")
struct EntryCountGuardTests {
    static let bounds = InputBounds(maxPositions: 3, maxBalances: 2, maxOpenOrders: 1)
    static let guardian = EntryCountGuard.accountState(bounds)

    static func check(_ body: String) -> MarginError? {
        do throws(MarginError) {
            try guardian.check(Array(body.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test("Counts at the limit pass; one more is refused naming the member and the limit")
    func limits() {
        #expect(Self.check(#"{"balances":{"USDC":1,"BTC":2},"positions":[{"instrument":"A"},{"instrument":"B"},{"instrument":"C"}]}"#) == nil)
        #expect(Self.check(#"{"balances":{"USDC":1,"BTC":2,"ETH":3}}"#)?.description.contains("balances") == true)
        #expect(Self.check(#"{"positions":[{},{},{},{}]}"#)?.description.contains("more than 3 entries") == true)
        #expect(Self.check(#"{"open_orders":[{"q":1},{"q":2}]}"#)?.description.contains("open_orders") == true)
        #expect(Self.check(#"{"openOrders":[{"q":1},{"q":2}]}"#)?.description.contains("open_orders") == true)
        #expect(Self.check(#"{"positions":[]}"#) == nil)
    }

    @Test("Nested arrays, strings with brackets and escapes, and other members are not counted")
    func structureOnly() {
        // Brackets, commas and an escaped quote inside strings; arrays nested in an element.
        #expect(Self.check(#"{"account_id":"a,[b],{c}\"d","positions":[{"x":[1,2,3,4,5],"y":"],["},{"z":{"a":1,"b":2,"c":3}}]}"#) == nil)
        // A member named like a counted one below the top level is not the account's.
        #expect(Self.check(#"{"other":{"positions":[1,2,3,4,5]}}"#) == nil)
        // Uncounted top-level arrays may be long.
        #expect(Self.check(#"{"tags":[1,2,3,4,5,6,7]}"#) == nil)
        // Malformed JSON is left for the decoder.
        #expect(Self.check(#"{"positions":[{"#) == nil)
    }

    @Test("A megabyte of 90,000 balances is a 400 naming the limit, refused by the scan")
    func junkBodyIsRefused() async throws {
        var configuration = WorkerConfiguration()
        configuration.engine.inputBounds = InputBounds()
        let entries = (0..<90_000).map { #""XB\#($0)":1"# }.joined(separator: ",")
        let body = #"{"account_id":"junk","balances":{\#(entries)}}"#
        #expect(body.utf8.count > 1_000_000)
        configuration.maxRequestBytes = 2_000_000
        // The scan stops at the first entry past the limit: it never reads the rest of the body.
        var scanned = 0
        let counting = CountingBytes(bytes: Array(body.utf8)) { scanned = $0 }
        #expect(throws: MarginError.self) { try EntryCountGuard.accountState(configuration.inputBounds).check(counting) }
        #expect(scanned < 5_000, "the scan read \(scanned) bytes")
        let engine = await EngineFixture.engine(settings: configuration.engine, accounts: [])
        let app = buildApplication(engine: engine, configuration: configuration, registry: TestMetrics.registry, logger: EngineFixture.logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/what-if", method: .post, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("more than 200 entries"))
            }
        }
    }
}

/// Bytes that report how many of them were read.
struct CountingBytes: Sequence {
    let bytes: [UInt8]
    let report: (Int) -> Void

    func makeIterator() -> Iterator { Iterator(bytes: bytes, report: report) }

    struct Iterator: IteratorProtocol {
        let bytes: [UInt8]
        let report: (Int) -> Void
        var index = 0

        mutating func next() -> UInt8? {
            guard index < bytes.count else { return nil }
            defer { index += 1; report(index) }
            return bytes[index]
        }
    }
}
