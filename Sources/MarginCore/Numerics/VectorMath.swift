/// The SIMD width used by the risk-array kernels (lanes of Double).
public typealias DoubleLanes = SIMD4<Double>
typealias IntLanes = SIMD4<Int64>

/// Vectorised elementary functions for the risk-array kernel, accurate to a few units in the last
/// place over the ranges the kernel uses. No branches: every lane follows the same instructions.
enum VectorMath {
    // MARK: exp

    private static let log2e: Double = 1.442_695_040_888_963_407_359_924_681_001_892_137
    // ln 2 split in two parts; the high part has trailing zero bits so that n·ln2hi is exact.
    private static let ln2hi: Double = 6.931_471_803_691_238_164_90e-01
    private static let ln2lo: Double = 1.908_214_929_270_587_700_02e-10

    /// e^(x + tail) where `tail` is a small correction (|tail| ≪ 1 ulp of x scale), which lets
    /// callers pass an argument in double-double form. Lanes below −708 return 0 (no subnormals);
    /// lanes above 709 return +∞.
    @inline(__always)
    static func exp(_ x: DoubleLanes, tail: DoubleLanes = .zero) -> DoubleLanes {
        let clamped = clamp(x, -708.0, 709.0)
        let n = (clamped * log2e).rounded(.toNearestOrEven)
        // r = x − n·ln2 computed in two steps, then the tail added back.
        var r = clamped.addingProduct(n, DoubleLanes(repeating: -ln2hi))
        r = r.addingProduct(n, DoubleLanes(repeating: -ln2lo)) + tail
        // |r| ≤ ln2/2: Taylor series to degree 12 (truncation < 2e-16 relative).
        var p = DoubleLanes(repeating: 1.0 / 479_001_600.0)
        p = DoubleLanes(repeating: 1.0 / 39_916_800.0).addingProduct(p, r)
        p = DoubleLanes(repeating: 1.0 / 3_628_800.0).addingProduct(p, r)
        p = DoubleLanes(repeating: 1.0 / 362_880.0).addingProduct(p, r)
        p = DoubleLanes(repeating: 1.0 / 40_320.0).addingProduct(p, r)
        p = DoubleLanes(repeating: 1.0 / 5_040.0).addingProduct(p, r)
        p = DoubleLanes(repeating: 1.0 / 720.0).addingProduct(p, r)
        p = DoubleLanes(repeating: 1.0 / 120.0).addingProduct(p, r)
        p = DoubleLanes(repeating: 1.0 / 24.0).addingProduct(p, r)
        p = DoubleLanes(repeating: 1.0 / 6.0).addingProduct(p, r)
        p = DoubleLanes(repeating: 0.5).addingProduct(p, r)
        p = DoubleLanes(repeating: 1.0).addingProduct(p, r)
        p = DoubleLanes(repeating: 1.0).addingProduct(p, r)
        // Scale by 2^n through the exponent bits (n ≥ −1021 here, so the result is normal).
        // n + 1.5·2^52 holds n in its low mantissa bits; shifting by 52 drops the magic's bits.
        let shifted = unsafeBitCast(n + DoubleLanes(repeating: 6_755_399_441_055_744.0), to: IntLanes.self)
        let scale = unsafeBitCast((shifted &+ 1023) &<< 52, to: DoubleLanes.self)
        var result = p * scale
        result.replace(with: 0, where: x .< -708.0)
        result.replace(with: Double.infinity, where: x .> 709.0)
        return result
    }

    /// Lane-wise max/min/clamp as compare-and-blend (the standard library's `clamped` and
    /// `pointwiseMax` are not inlined for SIMD4<Double> and run lane by lane).
    @inline(__always)
    static func maximum(_ a: DoubleLanes, _ b: DoubleLanes) -> DoubleLanes { a.replacing(with: b, where: a .< b) }

    @inline(__always)
    static func minimum(_ a: DoubleLanes, _ b: DoubleLanes) -> DoubleLanes { a.replacing(with: b, where: a .> b) }

    @inline(__always)
    static func clamp(_ x: DoubleLanes, _ low: Double, _ high: Double) -> DoubleLanes {
        minimum(maximum(x, DoubleLanes(repeating: low)), DoubleLanes(repeating: high))
    }

    /// |x| per lane, by clearing the sign bit.
    @inline(__always)
    static func magnitude(_ x: DoubleLanes) -> DoubleLanes {
        let mask = IntLanes(repeating: Int64.max)
        return unsafeBitCast(unsafeBitCast(x, to: IntLanes.self) & mask, to: DoubleLanes.self)
    }

    // MARK: Normal tail Φ(−y), y ≥ 0

    // W. J. Cody's rational Chebyshev approximations for the normal distribution
    // (ACM TOMS Algorithm 715, "anorm"), rearranged so that every region yields a numerator and a
    // denominator sharing one exponential and no division of their own.
    private static let a: (Double, Double, Double, Double, Double) = (
        2.2352520354606839287, 161.02823106855587881, 1067.6894854603709582,
        18154.981253343561249, 0.065682337918207449113
    )
    private static let b: (Double, Double, Double, Double) = (
        47.20258190468824187, 976.09855173777669322, 10260.932208618978205, 45507.789335026729956
    )
    private static let c: (Double, Double, Double, Double, Double, Double, Double, Double, Double) = (
        0.39894151208813466764, 8.8831497943883759412, 93.506656132177855979,
        597.27027639480026226, 2494.5375852903726711, 6848.1904505362823326,
        11602.651437647350124, 9842.7148383839780218, 1.0765576773720192317e-8
    )
    private static let d: (Double, Double, Double, Double, Double, Double, Double, Double) = (
        22.266688044328115691, 235.38790178262499861, 1519.377599407554805,
        6485.558298266760755, 18615.571640885098091, 34900.952721145977266,
        38912.003286093271411, 19685.429676859990727
    )
    private static let p: (Double, Double, Double, Double, Double, Double) = (
        0.21589853405795699, 0.1274011611602473639, 0.022235277870649807,
        0.001421619193227893466, 2.9112874951168792e-5, 0.02307344176494017303
    )
    private static let q: (Double, Double, Double, Double, Double) = (
        1.28426009614491121, 0.468238212480865118, 0.0659881378689285515,
        0.00378239633202758244, 7.29751555083966205e-5
    )
    private static let centralLimit = 0.66291
    private static let sqrt32 = 5.656854248

    /// Φ(−y) for y ≥ 0 (y ≤ 40) as `numerator / denominator`, where `gaussian = e^(−y²/2)`.
    @inline(__always)
    static func normalTail(_ y: DoubleLanes, gaussian: DoubleLanes) -> (numerator: DoubleLanes, denominator: DoubleLanes) {
        @inline(__always) func s(_ v: Double) -> DoubleLanes { DoubleLanes(repeating: v) }
        let w = y * y

        // Region 2 (0.66291 < y ≤ √32): Φ(−y) = e^(−y²/2)·C(y)/D(y) — the common case; the other
        // regions are evaluated only when some lane needs them.
        // C(y) = c₈y⁸ + c₀y⁷ + … + c₆y + c₇ and D(y) = y⁸ + d₀y⁷ + … + d₆y + d₇ by Horner's rule,
        // one multiply-add per coefficient.
        var cn = s(c.8)
        var cd = s(1)
        cn = s(c.0).addingProduct(cn, y); cd = s(d.0).addingProduct(cd, y)
        cn = s(c.1).addingProduct(cn, y); cd = s(d.1).addingProduct(cd, y)
        cn = s(c.2).addingProduct(cn, y); cd = s(d.2).addingProduct(cd, y)
        cn = s(c.3).addingProduct(cn, y); cd = s(d.3).addingProduct(cd, y)
        cn = s(c.4).addingProduct(cn, y); cd = s(d.4).addingProduct(cd, y)
        cn = s(c.5).addingProduct(cn, y); cd = s(d.5).addingProduct(cd, y)
        cn = s(c.6).addingProduct(cn, y); cd = s(d.6).addingProduct(cd, y)
        cn = s(c.7).addingProduct(cn, y); cd = s(d.7).addingProduct(cd, y)
        var numerator = gaussian * cn
        var denominator = cd

        let inRegion1 = y .<= centralLimit
        if anyLane(inRegion1) {
            // Region 1 (y ≤ 0.66291): Φ(−y) = ½ − y·A(w)/B(w).
            // A(w) = a₄w⁴ + a₀w³ + a₁w² + a₂w + a₃, B(w) = w⁴ + b₀w³ + b₁w² + b₂w + b₃.
            var an = s(a.4)
            var ad = s(1)
            an = s(a.0).addingProduct(an, w); ad = s(b.0).addingProduct(ad, w)
            an = s(a.1).addingProduct(an, w); ad = s(b.1).addingProduct(ad, w)
            an = s(a.2).addingProduct(an, w); ad = s(b.2).addingProduct(ad, w)
            an = s(a.3).addingProduct(an, w); ad = s(b.3).addingProduct(ad, w)
            numerator.replace(with: (s(0.5) * ad).addingProduct(-y, an), where: inRegion1)
            denominator.replace(with: ad, where: inRegion1)
        }
        let inRegion3 = y .> sqrt32
        if anyLane(inRegion3) {
            // Region 3 (y > √32): Φ(−y) = e^(−y²/2)/y·(1/√2π − z·P(z)/Q(z)), z = 1/y²,
            // with P and Q multiplied through by w⁵ so that no reciprocal is needed.
            var pn = s(p.3).addingProduct(s(p.4), w)
            pn = s(p.2).addingProduct(pn, w)
            pn = s(p.1).addingProduct(pn, w)
            pn = s(p.0).addingProduct(pn, w)
            pn = s(p.5).addingProduct(pn, w)
            var qd = s(q.4)
            qd = s(q.3).addingProduct(qd, w)
            qd = s(q.2).addingProduct(qd, w)
            qd = s(q.1).addingProduct(qd, w)
            qd = s(q.0).addingProduct(qd, w)
            qd = s(1.0).addingProduct(qd, w)
            let wq = w * qd
            numerator.replace(with: gaussian * (s(NormalDistribution.inverseSqrtTwoPi) * wq - pn), where: inRegion3)
            denominator.replace(with: y * wq, where: inRegion3)
        }
        return (numerator, denominator)
    }

    /// Whether any lane of a comparison is true.
    @inline(__always)
    static func anyLane(_ mask: SIMDMask<IntLanes>) -> Bool {
        let bits = unsafeBitCast(mask, to: IntLanes.self)
        return (bits[0] | bits[1] | bits[2] | bits[3]) != 0
    }

    /// Φ(x) for every lane (clamped to |x| ≤ 40), for tests and non-kernel callers.
    static func normalCDF(_ x: DoubleLanes) -> DoubleLanes {
        let y = minimum(magnitude(x), DoubleLanes(repeating: 40))
        let hi = y * y
        let low = (-hi).addingProduct(y, y) // exact rounding error of y·y
        let gaussian = exp(hi * -0.5, tail: low * -0.5)
        let (num, den) = normalTail(y, gaussian: gaussian)
        var result = (den - num) / den
        result.replace(with: num / den, where: x .< 0)
        return result
    }
}
