#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The standard normal distribution, scalar and exact to the last bits (via the C library's `erfc`).
public enum NormalDistribution {
    /// 1 / √(2π)
    public static let inverseSqrtTwoPi = 0.398_942_280_401_432_677_939_946_059_934
    static let inverseSqrtTwo = 0.707_106_781_186_547_524_400_844_362_104_849

    /// Φ(x): probability that a standard normal variable is ≤ x.
    @inlinable
    public static func cdf(_ x: Double) -> Double {
        0.5 * erfc(-x * 0.707_106_781_186_547_524_400_844_362_104_849)
    }

    /// φ(x): the standard normal density.
    @inlinable
    public static func pdf(_ x: Double) -> Double {
        0.398_942_280_401_432_677_939_946_059_934 * exp(-0.5 * x * x)
    }
}

/// Scalar wrappers over the C library so that the rest of the module does not import it.
@usableFromInline enum CMath {
    #if canImport(Glibc)
    @inlinable static func log(_ x: Double) -> Double { Glibc.log(x) }
    @inlinable static func exp(_ x: Double) -> Double { Glibc.exp(x) }
    @inlinable static func pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
    @inlinable static func erfc(_ x: Double) -> Double { Glibc.erfc(x) }
    @inlinable static func cos(_ x: Double) -> Double { Glibc.cos(x) }
    @inlinable static func lgamma(_ x: Double) -> Double { Glibc.lgamma(x) }
    #elseif canImport(Musl)
    @inlinable static func log(_ x: Double) -> Double { Musl.log(x) }
    @inlinable static func exp(_ x: Double) -> Double { Musl.exp(x) }
    @inlinable static func pow(_ x: Double, _ y: Double) -> Double { Musl.pow(x, y) }
    @inlinable static func erfc(_ x: Double) -> Double { Musl.erfc(x) }
    @inlinable static func cos(_ x: Double) -> Double { Musl.cos(x) }
    @inlinable static func lgamma(_ x: Double) -> Double { Musl.lgamma(x) }
    #else
    @inlinable static func log(_ x: Double) -> Double { Darwin.log(x) }
    @inlinable static func exp(_ x: Double) -> Double { Darwin.exp(x) }
    @inlinable static func pow(_ x: Double, _ y: Double) -> Double { Darwin.pow(x, y) }
    @inlinable static func erfc(_ x: Double) -> Double { Darwin.erfc(x) }
    @inlinable static func cos(_ x: Double) -> Double { Darwin.cos(x) }
    @inlinable static func lgamma(_ x: Double) -> Double { Darwin.lgamma(x) }
    #endif
}
