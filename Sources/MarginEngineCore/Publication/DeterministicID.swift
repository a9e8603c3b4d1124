/// Deterministic identifiers for outputs: the same inputs always give the same id, on any
/// instance and after any restart, so downstream consumers can drop duplicates.
public enum DeterministicID {
    /// FNV-1a (64-bit) of the parts joined with a separator, as 16 hex digits, prefixed.
    public static func make(_ prefix: String, _ parts: [String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for (index, part) in parts.enumerated() {
            if index > 0 { hash = (hash ^ 0x1f) &* 0x0000_0100_0000_01b3 }
            for byte in part.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        }
        let hex = String(hash, radix: 16)
        return "\(prefix)-\(String(repeating: "0", count: 16 - hex.count))\(hex)"
    }
}
