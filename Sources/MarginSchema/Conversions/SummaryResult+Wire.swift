import Foundation
import MarginCore

extension MarginSummary {
    /// A summary result (``summaryProto(resultID:account:parameterSet:asOfMs:marketTimestamps:)``)
    /// in protobuf's binary encoding, written directly: no message storage, visitor or dynamic
    /// casts; one buffer of the computed size (and the map's entries in key order). The bytes are SwiftProtobuf's for that message with deterministic
    /// map ordering (`market_timestamps` by key; tested); a market-driven tick publishes one per
    /// changed account, which made the message's construction and encoding most of the
    /// publisher's cost.
    public func summaryResultBytes(resultID: String, account: Account, parameterSet: (id: String, version: Int64, valuationAsset: String),
                                   asOfMs: Int64, marketTimestamps: [String: Int64]) -> Data {
        let timestamps = marketTimestamps.sorted { $0.key < $1.key }
        func write<Sink: WireSink>(_ sink: inout Sink) {
            sink.string(1, resultID)
            sink.string(2, account.id)
            sink.unsigned(3, account.version)
            sink.string(4, parameterSet.id)
            sink.signed(5, parameterSet.version)
            sink.string(6, parameterSet.valuationAsset)
            sink.signed(7, asOfMs)
            sink.double(8, grossEquity)
            sink.double(9, equity)
            sink.double(10, initialEquity)
            sink.double(11, maintenanceRequirement)
            sink.double(12, initialRequirement)
            sink.enumeration(13, health.proto.rawValue)
            for (key, value) in timestamps { sink.mapEntry(17, key: key, value: value) }
            sink.bool(22, true)
        }
        var counter = WireCounter()
        write(&counter)
        var data = Data(count: counter.count)
        data.withUnsafeMutableBytes { buffer in
            var writer = WireWriter(buffer.baseAddress!)
            write(&writer)
            precondition(writer.position == buffer.baseAddress! + counter.count, "the summary's size and its bytes disagree")
        }
        return data
    }
}

/// Where ``MarginSummary/summaryResultBytes(resultID:account:parameterSet:asOfMs:marketTimestamps:)``
/// writes protobuf's wire format (proto3: fields at their default value are left out): a counter
/// for the size, then a writer into the buffer of that size.
protocol WireSink {
    mutating func byte(_ byte: UInt8)
    mutating func bytes(_ bytes: UnsafeRawBufferPointer)
}

extension WireSink {
    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            byte(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        byte(UInt8(value))
    }

    /// Field number and wire type (0 varint, 1 fixed 64-bit, 2 length-delimited).
    mutating func tag(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    mutating func string(_ field: Int, _ value: String) {
        guard !value.isEmpty else { return }
        tag(field, 2)
        utf8(value)
    }

    mutating func utf8(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            varint(UInt64(utf8.count))
            bytes(UnsafeRawBufferPointer(utf8))
        }
    }

    mutating func unsigned(_ field: Int, _ value: UInt64) {
        guard value != 0 else { return }
        tag(field, 0)
        varint(value)
    }

    /// `int64` (and `int32`, enums): negative values take ten bytes, as two's complement.
    mutating func signed(_ field: Int, _ value: Int64) {
        guard value != 0 else { return }
        tag(field, 0)
        varint(UInt64(bitPattern: value))
    }

    mutating func enumeration(_ field: Int, _ rawValue: Int) { signed(field, Int64(rawValue)) }

    /// Left out only at +0.0 (SwiftProtobuf compares bit patterns, so −0.0 is written).
    mutating func double(_ field: Int, _ value: Double) {
        guard value.bitPattern != 0 else { return }
        tag(field, 1)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes($0) }
    }

    mutating func bool(_ field: Int, _ value: Bool) {
        guard value else { return }
        tag(field, 0)
        byte(1)
    }

    /// One entry of a `map<string, int64>`: a nested message whose key (1) and value (2) are
    /// written even at their defaults, as SwiftProtobuf writes map entries.
    mutating func mapEntry(_ field: Int, key: String, value: Int64) {
        let keyLength = key.utf8.count
        let length = 1 + Self.varintSize(UInt64(keyLength)) + keyLength + 1 + Self.varintSize(UInt64(bitPattern: value))
        tag(field, 2)
        varint(UInt64(length))
        tag(1, 2)
        utf8(key)
        tag(2, 0)
        varint(UInt64(bitPattern: value))
    }

    static func varintSize(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }
}

struct WireCounter: WireSink {
    private(set) var count = 0
    mutating func byte(_ byte: UInt8) { count += 1 }
    mutating func bytes(_ bytes: UnsafeRawBufferPointer) { count += bytes.count }
}

struct WireWriter: WireSink {
    private(set) var position: UnsafeMutableRawPointer
    init(_ start: UnsafeMutableRawPointer) { position = start }
    mutating func byte(_ byte: UInt8) {
        position.storeBytes(of: byte, as: UInt8.self)
        position += 1
    }
    mutating func bytes(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        position.copyMemory(from: base, byteCount: bytes.count)
        position += bytes.count
    }
}
