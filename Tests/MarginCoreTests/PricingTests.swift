import Foundation
import Testing
@testable import MarginCore

@Suite("Black-76 pricing")
struct PricingTests {
    @Test("Haug: F = K = 19, T = 0.75, r = 10%, vol = 28% gives 1.7011 for call and put")
    func haug() {
        for right in OptionRight.allCases {
            let price = Black76.price(Black76Inputs(forward: 19, strike: 19, timeToExpiry: 0.75, volatility: 0.28, rate: 0.10, right: right))
            #expect(abs(price - 1.7011) < 0.00005, "\(right): \(price)")
        }
    }

    @Test("Hull: S = 42, K = 40, r = 10%, vol = 20%, T = 0.5 gives call 4.76, put 0.81")
    func hull() {
        let forward = 42 * exp(0.10 * 0.5)
        let call = Black76.price(Black76Inputs(forward: forward, strike: 40, timeToExpiry: 0.5, volatility: 0.2, rate: 0.1, right: .call))
        let put = Black76.price(Black76Inputs(forward: forward, strike: 40, timeToExpiry: 0.5, volatility: 0.2, rate: 0.1, right: .put))
        #expect(abs(call - 4.76) < 0.005)
        #expect(abs(put - 0.81) < 0.005)
    }

    @Test("Put-call parity C − P = D(F − K), linear and inverse")
    func parity() {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<500 {
            let f = Double.random(in: 100...100_000, using: &generator)
            let k = f * Double.random(in: 0.3...3, using: &generator)
            let t = Double.random(in: 0.001...3, using: &generator)
            let vol = Double.random(in: 0.05...2, using: &generator)
            let r = Double.random(in: -0.01...0.2, using: &generator)
            for settlement in Settlement.allCases {
                let call = Black76.price(Black76Inputs(forward: f, strike: k, timeToExpiry: t, volatility: vol, rate: r, right: .call, settlement: settlement))
                let put = Black76.price(Black76Inputs(forward: f, strike: k, timeToExpiry: t, volatility: vol, rate: r, right: .put, settlement: settlement))
                var expected = exp(-r * t) * (f - k)
                if settlement == .inverse { expected /= f }
                let scale = settlement == .inverse ? 1.0 : f
                #expect(abs((call - put) - expected) <= 1e-11 * scale)
            }
        }
    }

    @Test("Greeks agree with finite differences (linear and inverse)")
    func greeksAgreeWithFiniteDifferences() {
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<200 {
            let base = Black76Inputs(
                forward: Double.random(in: 1000...80_000, using: &generator), strike: 0, timeToExpiry: Double.random(in: 0.02...2, using: &generator),
                volatility: Double.random(in: 0.2...1.5, using: &generator), rate: Double.random(in: 0...0.1, using: &generator),
                right: Bool.random(using: &generator) ? .call : .put, settlement: Bool.random(using: &generator) ? .linear : .inverse)
            var inputs = base
            inputs.strike = base.forward * Double.random(in: 0.6...1.6, using: &generator)
            let v = Black76.valuation(inputs)
            #expect(abs(v.price - Black76.price(inputs)) <= 1e-12 * max(1, abs(v.price)))
            let hF = inputs.forward * 1e-4
            func price(_ change: (inout Black76Inputs) -> Void) -> Double {
                var x = inputs
                change(&x)
                return Black76.price(x)
            }
            let up = price { $0.forward += hF }, down = price { $0.forward -= hF }
            let delta = (up - down) / (2 * hF)
            let gamma = (up - 2 * v.price + down) / (hF * hF)
            let hV = 1e-5
            let vega = (price { $0.volatility += hV } - price { $0.volatility -= hV }) / (2 * hV)
            let hT = 1e-6
            let theta = -(price { $0.timeToExpiry += hT } - price { $0.timeToExpiry -= hT }) / (2 * hT)
            let priceScale = inputs.settlement == .linear ? inputs.forward : 1
            #expect(abs(delta - v.delta) <= 1e-6 * max(1, abs(v.delta)), "delta \(delta) vs \(v.delta)")
            #expect(abs(gamma - v.gamma) <= 1e-4 * max(abs(v.gamma), 1e-9 / inputs.forward), "gamma \(gamma) vs \(v.gamma)")
            #expect(abs(vega - v.vega) <= 1e-6 * priceScale, "vega \(vega) vs \(v.vega)")
            #expect(abs(theta - v.theta) <= 1e-5 * priceScale, "theta \(theta) vs \(v.theta)")
        }
    }

    @Test("Implied volatility recovers the volatility, deep ITM and OTM included")
    func impliedVolatility() throws {
        for moneyness in [0.2, 0.5, 0.8, 1.0, 1.25, 2.0, 4.0] {
            for vol in [0.05, 0.3, 0.8, 2.0] {
                for right in OptionRight.allCases {
                    let inputs = Black76Inputs(forward: 10_000, strike: 10_000 * moneyness, timeToExpiry: 0.25, volatility: vol, rate: 0.02, right: right)
                    let price = Black76.price(inputs)
                    // Skip prices carrying no volatility information (time value below precision).
                    let intrinsic = exp(-0.02 * 0.25) * max(0, right == .call ? 10_000 - inputs.strike : inputs.strike - 10_000)
                    guard price - intrinsic > 1e-8 * 10_000 else { continue }
                    let solved = try ImpliedVolatility.solve(price: price, inputs: inputs)
                    #expect(abs(solved - vol) < 1e-6, "K/F \(moneyness) vol \(vol) \(right): \(solved)")
                }
            }
        }
    }

    @Test("Implied volatility refuses impossible prices with an error, not NaN")
    func impliedVolatilityRejects() {
        let inputs = Black76Inputs(forward: 100, strike: 100, timeToExpiry: 1, volatility: 0.5, right: .call)
        #expect(throws: MarginError.self) { try ImpliedVolatility.solve(price: 150, inputs: inputs) }
        #expect(throws: MarginError.self) { try ImpliedVolatility.solve(price: -1, inputs: inputs) }
        #expect(throws: MarginError.self) { try ImpliedVolatility.solve(price: .nan, inputs: inputs) }
    }

    @Test("Vectorised normal CDF matches the scalar erfc-based one")
    func vectorNormalCDF() {
        var x = -38.0
        while x <= 38 {
            let lanes = DoubleLanes(x, x + 0.0013, -x * 0.7, x * 0.01)
            let vector = VectorMath.normalCDF(lanes)
            for lane in 0..<4 {
                let scalar = NormalDistribution.cdf(lanes[lane])
                // Relative accuracy: 1e-14 in the body; the far tail (< 1e-20) to 1e-12.
                let tolerance = scalar > 1e-20 ? 1e-14 : 1e-12
                #expect(abs(vector[lane] - scalar) <= tolerance * scalar + 1e-300, "Φ(\(lanes[lane])): \(vector[lane]) vs \(scalar)")
            }
            x += 0.173
        }
    }

    @Test("Vectorised exp matches the C library")
    func vectorExp() {
        var x = -700.0
        while x < 700 {
            let lanes = DoubleLanes(x, -x, x * 1e-3, 0.5)
            let vector = VectorMath.exp(lanes)
            for lane in 0..<4 {
                let scalar = Foundation.exp(lanes[lane])
                #expect(abs(vector[lane] - scalar) <= 4e-16 * scalar, "exp(\(lanes[lane]))")
            }
            x += 3.7
        }
    }
}

@Suite("SVI fitting")
struct SVIFitTests {
    @Test("Recovers known SVI parameters from exact quotes")
    func recoversKnownSmile() throws {
        let truth = SVIParameters(a: 0.04, b: 0.2, rho: -0.35, m: 0.05, sigma: 0.25)
        let t = 0.25
        let points = stride(from: -0.8, through: 0.8, by: 0.05).map { k in (k: k, volatility: (truth.totalVariance(atLogMoneyness: k) / t).squareRoot()) }
        let fit = try SVIFit.fit(points: points, timeToExpiry: t)
        #expect(fit.rmsVolatilityError < 2e-4)
        #expect(abs(fit.parameters.rho - truth.rho) < 0.05)
    }
}
