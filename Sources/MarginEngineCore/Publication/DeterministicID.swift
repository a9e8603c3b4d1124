/// Deterministic identifiers for outputs: the same inputs always give the same id, on any
/// instance and after any restart, so downstream consumers can drop duplicates.
public enum DeterministicID {
    /// FNV-1a (64-bit) of the parts joined with a separator, as 16 hex digits, prefixed.
    public static func make(_ prefix: String, _ parts: [String]) -> String {
        var digest = Digest()
        for part in parts { digest.part(part) }
        return digest.id(prefix)
    }

    /// ``make(_:_:)`` fed part by part, for ids built per result: a part from a string, a
    /// decimal number or `name@number` hashes the bytes that part's string would have, without
    /// forming it (the same id as ``make(_:_:)`` over those strings; tested).
    public struct Digest: Sendable {
        private static let prime: UInt64 = 0x0000_0100_0000_01b3
        private var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        private var parts = 0

        public init() {}

        private mutating func mix(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* Self.prime }

        /// Before every part but the first: the separator.
        private mutating func startPart() {
            if parts > 0 { mix(0x1f) }
            parts += 1
        }

        private mutating func mix(_ text: String) { for byte in text.utf8 { mix(byte) } }

        /// The decimal digits of `magnitude`, with a minus sign when `negative` (as `String(_:)` writes an integer).
        private mutating func mix(magnitude: UInt64, negative: Bool) {
            if negative { mix(UInt8(ascii: "-")) }
            var divisor: UInt64 = 1
            while magnitude / divisor >= 10 { divisor *= 10 }
            var rest = magnitude
            while divisor > 0 {
                mix(UInt8(ascii: "0") + UInt8(rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }

        public mutating func part(_ text: String) {
            startPart()
            mix(text)
        }

        public mutating func part(_ value: Int64) {
            startPart()
            mix(magnitude: value.magnitude, negative: value < 0)
        }

        public mutating func part(_ value: UInt64) {
            startPart()
            mix(magnitude: value, negative: false)
        }

        /// The part `"\(name)@\(value)"`.
        public mutating func part(_ name: String, at value: Int64) {
            startPart()
            mix(name)
            mix(UInt8(ascii: "@"))
            mix(magnitude: value.magnitude, negative: value < 0)
        }

        /// `prefix-` and the hash as 16 lowercase hex digits.
        public func id(_ prefix: String) -> String {
            String(unsafeUninitializedCapacity: prefix.utf8.count + 17) { buffer in
                var index = 0
                for byte in prefix.utf8 {
                    buffer[index] = byte
                    index += 1
                }
                buffer[index] = UInt8(ascii: "-")
                index += 1
                for shift in stride(from: 60, through: 0, by: -4) {
                    let nibble = UInt8(truncatingIfNeeded: hash >> UInt64(shift)) & 0xf
                    buffer[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
                    index += 1
                }
                return index
            }
        }
    }
}
