/// Kafka's default partitioner for keyed records, as the Java client (and librdkafka's
/// `murmur2_random`) computes it: `toPositive(murmur2(key)) % partitions`.
public enum KafkaPartitioner {
    /// Kafka's MurmurHash2 variant (seed 0x9747b28c), as a signed 32-bit value like Java's.
    public static func murmur2(_ key: some Collection<UInt8>) -> Int32 {
        let bytes = Array(key)
        let m: UInt32 = 0x5bd1_e995
        let r: UInt32 = 24
        let length = bytes.count
        var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: length)
        let blocks = length / 4
        for i in 0..<blocks {
            let base = i * 4
            var k = UInt32(bytes[base]) | UInt32(bytes[base + 1]) << 8 | UInt32(bytes[base + 2]) << 16 | UInt32(bytes[base + 3]) << 24
            k = k &* m
            k ^= k >> r
            k = k &* m
            h = h &* m
            h ^= k
        }
        let tail = blocks * 4
        switch length & 3 {
        case 3:
            h ^= UInt32(bytes[tail + 2]) << 16
            h ^= UInt32(bytes[tail + 1]) << 8
            h ^= UInt32(bytes[tail])
            h = h &* m
        case 2:
            h ^= UInt32(bytes[tail + 1]) << 8
            h ^= UInt32(bytes[tail])
            h = h &* m
        case 1:
            h ^= UInt32(bytes[tail])
            h = h &* m
        default:
            break
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// The partition a keyed record lands on.
    public static func partition(forKey key: some Collection<UInt8>, partitionCount: Int32) -> Int32 {
        precondition(partitionCount > 0)
        return (murmur2(key) & 0x7fff_ffff) % partitionCount
    }
}
