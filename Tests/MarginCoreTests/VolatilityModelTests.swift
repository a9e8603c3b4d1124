import Testing
@testable import MarginCore

/// The volatility models behind the historical simulation: known answers computed independently
/// (Python: the closed-form Student-t log-density, numpy's least squares), fits, fallbacks.
@Suite("Volatility models")
struct VolatilityModelTests {
    static func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-12) -> Bool { abs(a - b) <= tolerance * max(1, abs(a), abs(b)) }

    @Test("GJR-GARCH Student-t log-likelihood on a hand-sized series (scipy.stats.t agrees: 17.29278685188665)")
    func gjrLikelihood() {
        let returns = [0.01, -0.02, 0.015, -0.03, 0.005, 0.02, -0.01]
        let model = GJRGarch(omega: 1e-5, alpha: 0.05, gamma: 0.1, beta: 0.85, nu: 5)
        #expect(Self.close(model.logLikelihood(returns, seedCount: 3), 17.292786851886646))
        let forecasts = model.forecasts(returns, seedCount: 3)
        #expect(forecasts.count == 8 && Self.close(forecasts[7], 0.00027295829375651045))
        // The leverage term: a negative return raises the next variance by γ·r² more than a positive one.
        let up = model.forecasts([0.02], seedCount: 1)[1], down = model.forecasts([-0.02], seedCount: 1)[1]
        #expect(Self.close(down - up, 0.1 * 0.0004))
    }

    static let harSeries: [Double] = [2.4603067149651485e-05, 0.006400239939597403, -0.006255395057543884, -0.021512885799885816, -0.01155243086779036, -0.026328988499843293, 0.0016575428712971548, 0.03808182733640398, -0.014322338055796392, -0.018363814532694842, 0.014645802527851524, 0.01070660953150378, 0.003151594099072657, -0.027535175183996164, -0.0008510225182236325, 0.019752083494353517, -0.037035087125698286, -0.012145680472574024, -0.04828668824648242, -0.031134875069991744, -0.0420031507330351, -0.0050335832446142485, -0.02533290290841775, 0.00503568855905196, 0.002691328605457086, -0.0029596371724987212, -0.03669693929366703, -0.007239855977454367, -0.0006029625429781911, 0.001311944107815698, -0.016673171125023117, -0.00496866543140078, -0.00988224498889667, -0.008088386943613838, 0.01071994096516129, -0.008407047478558211, -0.000354886442559825, 0.01025802142384177, -0.007269808577986185, -0.0015044409460494787, 0.0016142066835342008, 0.0010120443744921596, -0.0210781206877539, 0.0014163087439099519, 0.027210832750860205, -0.03318431149869406, 0.0196306072072395, 0.002885826114701881, -0.01631233347680905, 0.05315079955487141, 0.021020290419538748, -0.03409380112675753, 0.0021690701908341067, 0.01707201136900198, -0.005645073328426154, 0.02048727389313974, -0.0019884409953194308, 0.019740951599433648, 0.04183571953822528, -0.01918485743799235, 0.005593394675383202, -0.012287875944057405, 0.0032296135163106805, -0.02863653866205182, -0.013197655634169256, -0.004195878249294669, 0.01794118320567532, 0.021230978522611473, -0.0226921421125407, -0.01256314288124837, 0.009418777265603152, -0.02673948141737563, -0.005750470988516599, -0.0011251091452355632, 0.013683982706089908, 0.007164984831319189, -0.003303436547127189, -0.0036857950372928988, -0.0025290414790637445, 0.015872070891893707]

    @Test("HAR least squares on an 80-day series agrees with numpy.linalg.lstsq")
    func harFit() throws {
        let fit = try #require(HARVariance.fit(Self.harSeries))
        #expect(Self.close(fit.intercept, 0.0007023994881061581, 1e-9))
        #expect(Self.close(fit.daily, -0.02331956384092504, 1e-9))
        #expect(Self.close(fit.weekly, 0.2530497165360695, 1e-9))
        #expect(Self.close(fit.monthly, -1.2010200319975346, 1e-9))
        // Forecasts are causal and floored.
        let forecasts = fit.forecasts(Self.harSeries)
        #expect(forecasts.count == Self.harSeries.count + 1 && forecasts.allSatisfy { $0 >= fit.floor })
        #expect(fit.forecasts(Array(Self.harSeries.prefix(50)))[40] == forecasts[40])
        #expect(HARVariance.fit(Array(Self.harSeries.prefix(40))) == nil)
    }

    @Test("Nelder–Mead finds the Rosenbrock minimum")
    func nelderMead() {
        let result = NelderMead.minimize({ x in 100 * (x[1] - x[0] * x[0]) * (x[1] - x[0] * x[0]) + (1 - x[0]) * (1 - x[0]) },
                                         start: [-1.2, 1], steps: [0.5, 0.5], tolerance: 1e-14, maxIterations: 10_000)
        #expect(result.converged && abs(result.point[0] - 1) < 1e-4 && abs(result.point[1] - 1) < 1e-4)
    }

    /// A seeded GJR-GARCH-t path.
    static func simulated(_ model: GJRGarch, count: Int, seed: UInt64) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        var variance = model.omega / (1 - model.persistence)
        var returns: [Double] = []
        for _ in 0..<count {
            let z = RandomVariates.standardNormal(using: &generator)
            let chi = 2 * RandomVariates.gamma(shape: model.nu / 2, using: &generator)
            let t = z / (chi / model.nu).squareRoot() * ((model.nu - 2) / model.nu).squareRoot()
            let r = variance.squareRoot() * t
            returns.append(r)
            variance = model.omega + (model.alpha + (r < 0 ? model.gamma : 0)) * r * r + model.beta * variance
        }
        return returns
    }

    @Test("The GJR-GARCH fit recovers a simulated model's parameters (3,000 days)")
    func gjrRecovery() throws {
        let truth = GJRGarch(omega: 2e-5, alpha: 0.06, gamma: 0.08, beta: 0.86, nu: 5)
        let returns = Self.simulated(truth, count: 3_000, seed: 11)
        let fit = try #require(GJRGarch.fit(returns))
        #expect(abs(fit.parameters.persistence - truth.persistence) < 0.05)
        #expect(abs(fit.parameters.beta - truth.beta) < 0.08 && abs(fit.parameters.nu - truth.nu) < 2)
        #expect(fit.logLikelihood >= truth.logLikelihood(returns) - 1e-6)
        // Too short a sample: no fit, and the model falls back to EWMA, saying so.
        #expect(GJRGarch.fit(Array(returns.prefix(40))) == nil)
        let fallback = try VolatilityModel.gjrGarch.fit(Array(returns.prefix(40)), lambda: 0.94, seedCount: 30)
        let ewma = try EWMAVariance(lambda: 0.94)
        #expect(fallback.note != nil && fallback.estimate == .ewma(ewma))
    }

    @Test("Asymmetric EWMA: θ = 0 is RiskMetrics; the fit finds the leverage of a GJR path")
    func asymmetricEWMA() throws {
        let returns = Self.simulated(GJRGarch(omega: 2e-5, alpha: 0.02, gamma: 0.15, beta: 0.88, nu: 6), count: 2_000, seed: 3)
        let ewma = try EWMAVariance(lambda: 0.94)
        #expect(AsymmetricEWMA(lambda: 0.94, theta: 0).forecasts(returns) == ewma.forecasts(returns))
        #expect(AsymmetricEWMA.fit(returns, lambda: 0.94).theta > 0.2)
        let symmetric = Self.simulated(GJRGarch(omega: 2e-5, alpha: 0.09, gamma: 0, beta: 0.88, nu: 6), count: 2_000, seed: 3)
        #expect(AsymmetricEWMA.fit(symmetric, lambda: 0.94).theta < AsymmetricEWMA.fit(returns, lambda: 0.94).theta)
    }

    @Test("Model names parse; an unknown one is refused naming the choices")
    func names() throws {
        let parsed = try VolatilityModel(label: "gjr-garch")
        #expect(parsed == .gjrGarch)
        #expect(throws: MarginError.self) { try VolatilityModel(label: "garch") }
    }
}
