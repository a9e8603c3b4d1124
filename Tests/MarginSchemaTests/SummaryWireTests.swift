import Foundation
import MarginCore
import MarginSchema
import SwiftProtobuf
import Testing

/// The summary result written directly against SwiftProtobuf's encoding of the same message:
/// the same bytes (with the map in key order), on random figures, strings and timestamps.
@Suite("Summary results on the wire")
struct SummaryWireTests {
    static func randomString(_ generator: inout SeededGenerator) -> String {
        let alphabets = ["", "a", "BTC", "acct-000123", "ü€𝄞 😀", String(repeating: "x", count: 130), String(repeating: "é", count: 70)]
        let base = alphabets.randomElement(using: &generator)!
        return Bool.random(using: &generator) ? base : base + String(Int.random(in: 0...1_000_000, using: &generator))
    }

    static func randomDouble(_ generator: inout SeededGenerator) -> Double {
        switch Int.random(in: 0..<6, using: &generator) {
        case 0: return 0
        case 1: return -0.0
        case 2: return Double.random(in: -1e12...1e12, using: &generator)
        case 3: return Double.random(in: -1...1, using: &generator)
        case 4: return .leastNonzeroMagnitude
        default: return Double(Int.random(in: -1_000...1_000, using: &generator))
        }
    }

    static func randomInteger(_ generator: inout SeededGenerator) -> Int64 {
        [0, 1, -1, 127, 128, 16_383, 16_384, .max, .min, Int64.random(in: .min ... .max, using: &generator)].randomElement(using: &generator)!
    }

    @Test("Byte for byte SwiftProtobuf's encoding of the summary message")
    func sameBytesAsTheMessage() throws {
        var generator = SeededGenerator(seed: 2026)
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        for _ in 0..<2_000 {
            let summary = MarginSummary(grossEquity: Self.randomDouble(&generator), equity: Self.randomDouble(&generator),
                                        initialEquity: Self.randomDouble(&generator), maintenanceRequirement: Self.randomDouble(&generator),
                                        initialRequirement: Self.randomDouble(&generator), health: HealthState.allCases.randomElement(using: &generator)!)
            let account = Account(id: Self.randomString(&generator), version: UInt64(bitPattern: Self.randomInteger(&generator)))
            let set = (id: Self.randomString(&generator), version: Self.randomInteger(&generator), valuationAsset: Self.randomString(&generator))
            var timestamps: [String: Int64] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &generator) { timestamps[Self.randomString(&generator)] = Self.randomInteger(&generator) }
            let resultID = Self.randomString(&generator), asOf = Self.randomInteger(&generator)
            let message = summary.summaryProto(resultID: resultID, account: account, parameterSet: set, asOfMs: asOf, marketTimestamps: timestamps)
            let written = summary.summaryResultBytes(resultID: resultID, account: account, parameterSet: set, asOfMs: asOf, marketTimestamps: timestamps)
            let expected: Data = try message.serializedBytes(options: options)
            #expect(written == expected, "\(message)")
            #expect(try Margin_V1_MarginResult(serializedBytes: written) == message)
        }
    }
}
