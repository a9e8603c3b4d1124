import Foundation
import Testing
@testable import MarginBacktest

/// Known answers for the coverage statistics.
///
/// MathWorks' `varbacktest` example on `VaRBacktestData` (EquityIndex, normal VaR at 95 %):
/// T = 1043 observations, x = 57 failures; transitions n00 = 932, n01 = 53, n10 = 53, n11 = 4.
/// Reported: POF 0.46147 (p 0.49694), CCI 0.25866 (p 0.61104), CC 0.72013 (p 0.69763), traffic
/// light green with probability 0.77913. Basel table: BCBS (1996), Table 1 (250 observations, 99 %).
@Suite struct StatisticsTests {
    @Test func chiSquaredSurvivalMatchesCriticalValues() {
        #expect(abs(ChiSquared.survival1(3.841458820694124) - 0.05) < 1e-12)
        #expect(abs(ChiSquared.survival1(6.634896601021214) - 0.01) < 1e-12)
        #expect(abs(ChiSquared.survival2(5.991464547107979) - 0.05) < 1e-12)
        #expect(abs(ChiSquared.survival2(9.21034037197618) - 0.01) < 1e-12)
        #expect(ChiSquared.survival1(0) == 1 && ChiSquared.survival2(-1e-15) == 1)
        #expect(ChiSquared.survival1(.infinity) == 0 && ChiSquared.survival2(.infinity) == 0)
        #expect(ChiSquared.survival(1, degreesOfFreedom: 2) == ChiSquared.survival2(1))
    }

    @Test func binomialCDFMatchesDirectSums() {
        // Bin(10, 0.3): P(X ≤ 3) = 0.6496107184.
        #expect(abs(Binomial.cdf(3, trials: 10, probability: 0.3) - 0.6496107184) < 1e-10)
        #expect(Binomial.cdf(-1, trials: 10, probability: 0.3) == 0)
        #expect(Binomial.cdf(10, trials: 10, probability: 0.3) == 1)
        #expect(Binomial.cdf(0, trials: 0, probability: 0.01) == 1)
        // Large n stays accurate: Bin(5000, 0.01) has mean 50; P(X ≤ 50) ≈ 0.5375.
        let middle = Binomial.cdf(50, trials: 5000, probability: 0.01)
        #expect(middle > 0.52 && middle < 0.56)
        #expect(abs(Binomial.cdf(4999, trials: 5000, probability: 0.01) - 1) < 1e-12)
        #expect(Binomial.cdf(0, trials: 5000, probability: 0.01) > 0)
        // Degenerate probabilities.
        #expect(Binomial.cdf(0, trials: 5, probability: 0) == 1)
        #expect(Binomial.cdf(4, trials: 5, probability: 1) == 0)
    }

    @Test func kupiecMatchesMathWorks() {
        let test = KupiecTest(observations: 1043, exceptions: 57, probability: 0.05)
        #expect(abs(test.lr - 0.46147) < 1e-4)
        #expect(abs(test.p - 0.49694) < 1e-4)
    }

    @Test func christoffersenMatchesMathWorks() {
        let pof = KupiecTest(observations: 1043, exceptions: 57, probability: 0.05)
        let counts = TransitionCounts(n00: 932, n01: 53, n10: 53, n11: 4)
        let test = ChristoffersenTest(transitions: counts, proportionOfFailures: pof)
        #expect(abs(test.lrIndependence - 0.25866) < 1e-4)
        #expect(abs(test.pIndependence - 0.61104) < 1e-4)
        #expect(abs(test.lrConditionalCoverage - 0.72013) < 1e-4)
        #expect(abs(test.pConditionalCoverage - 0.69763) < 1e-4)
    }

    @Test func transitionCountsFromSequence() {
        let counts = TransitionCounts([false, false, true, true, false, true])
        #expect(counts == TransitionCounts(n00: 1, n01: 2, n10: 1, n11: 1))
        #expect(counts.total == 5)
        #expect(TransitionCounts([]).total == 0 && TransitionCounts([true]).total == 0)
    }

    @Test func trafficLightMatchesMathWorks() {
        let light = TrafficLight(observations: 1043, exceptions: 57, probability: 0.05)
        #expect(light.zone == .green)
        #expect(abs(light.cumulativeProbability - 0.77913) < 1e-4)
    }

    @Test func baselTableAt250Observations() {
        let expected = [0.0811, 0.2858, 0.5432, 0.7581, 0.8922, 0.9588, 0.9863, 0.9960, 0.9989, 0.9997, 0.9999]
        for (exceptions, cumulative) in expected.enumerated() {
            let light = TrafficLight(observations: 250, exceptions: exceptions, probability: 0.01)
            #expect(abs(light.cumulativeProbability - cumulative) < 1e-4, "\(exceptions) exceptions")
            let zone: TrafficLightZone = exceptions <= 4 ? .green : exceptions <= 9 ? .yellow : .red
            #expect(light.zone == zone, "\(exceptions) exceptions")
        }
        for exceptions in 10...250 {
            #expect(TrafficLight(observations: 250, exceptions: exceptions, probability: 0.01).zone == .red)
        }
    }

    @Test func edgeCasesAreFinite() {
        for (t, x) in [(0, 0), (250, 0), (250, 250), (1, 1), (1, 0), (5000, 5000)] {
            let pof = KupiecTest(observations: t, exceptions: x, probability: 0.01)
            #expect(pof.lr.isFinite && pof.lr >= 0 && (0...1).contains(pof.p), "T=\(t) x=\(x)")
            let sequence = [Bool](repeating: x > 0, count: t)
            let cc = ChristoffersenTest(transitions: TransitionCounts(sequence), proportionOfFailures: pof)
            #expect(cc.lrIndependence == 0 && cc.pIndependence == 1)
            #expect(cc.lrConditionalCoverage.isFinite && (0...1).contains(cc.pConditionalCoverage))
            let light = TrafficLight(observations: t, exceptions: x, probability: 0.01)
            #expect((0...1).contains(light.cumulativeProbability))
        }
        #expect(KupiecTest(observations: 0, exceptions: 0, probability: 0.01) == KupiecTest(lr: 0, p: 1))
        // No exception at all in 250 days at 99 %: LR = −2·250·ln(0.99) = 5.025.
        #expect(abs(KupiecTest(observations: 250, exceptions: 0, probability: 0.01).lr - 5.02517) < 1e-4)
        // All exceptions: LR = −2·T·ln p.
        #expect(abs(KupiecTest(observations: 10, exceptions: 10, probability: 0.01).lr - 92.1034) < 1e-3)
        #expect(TrafficLight(observations: 250, exceptions: 250, probability: 0.01).zone == .red)
        // Zero exceptions stays green on short samples ((1 − p)^5 = 0.951).
        #expect(TrafficLight(observations: 5, exceptions: 0, probability: 0.01).zone == .green)
        #expect(TrafficLight(observations: 0, exceptions: 0, probability: 0.01)
                == TrafficLight(zone: .green, cumulativeProbability: 1))
    }

    @Test func procyclicalityOnAHandSeries() {
        let margin: [Double] = [100, 110, 0, 120, 90, 180, 150, 200]
        let m = ProcyclicalityMetrics(margin: margin)
        // Zero ignored: 200 / 90.
        #expect(abs(m.peakToTrough - 200.0 / 90.0) < 1e-12)
        // 1 day: 90 → 180 (+100 %); the jump from 0 to 120 is not a relative increase.
        #expect(abs(m.maxIncrease1d - 1.0) < 1e-12)
        // 5 days: t=1 110→150, t=2 skipped (0), t=0 100→180 → +80 %.
        #expect(abs(m.maxIncrease5d - 0.8) < 1e-12)
        // Shorter than 31 observations: no 30-day window.
        #expect(m.maxIncrease30d == 0)
        let falling = ProcyclicalityMetrics(margin: (0..<40).map { 1000 - Double($0) })
        #expect(falling.maxIncrease1d == 0 && falling.maxIncrease5d == 0 && falling.maxIncrease30d == 0)
        #expect(abs(falling.peakToTrough - 1000.0 / 961.0) < 1e-12)
        let rising = ProcyclicalityMetrics(margin: (0..<31).map { 100 + 10 * Double($0) })
        #expect(abs(rising.maxIncrease30d - 3.0) < 1e-12)
        #expect(ProcyclicalityMetrics(margin: []) == ProcyclicalityMetrics(peakToTrough: 1, maxIncrease1d: 0, maxIncrease5d: 0, maxIncrease10d: 0, maxIncrease30d: 0))
        #expect(ProcyclicalityMetrics(margin: [0, 0, .nan, -5]).peakToTrough == 1)
    }
}

/// Known answers of the efficiency figures and the forecast losses.
@Suite struct EfficiencyTests {
    @Test func efficiencyOfAHandSeries() {
        let e = EfficiencyMetrics(margin: [10, 10, 10, 10, .nan], realisedLoss: [1, 12, 5, 15, 30], notional: [100, 100, 50, 100, 100],
                                  marginWithoutAPC: [8, 8, 8, 8, 8])
        #expect(e.meanMarginPctNotional == 12.5)
        #expect(e.marginOverQ99Loss == 10.0 / 15)
        #expect(abs(e.breachLossToMarginMean - 1.35) < 1e-15 && e.breachLossToMarginMax == 1.5)
        #expect(abs(e.apcCost - 0.25) < 1e-15)
    }

    @Test func undefinedEfficiencyIsZero() {
        let none = EfficiencyMetrics(margin: [], realisedLoss: [], notional: [], marginWithoutAPC: nil)
        #expect(none == EfficiencyMetrics(meanMarginPctNotional: 0, marginOverQ99Loss: 0, breachLossToMarginMean: 0, breachLossToMarginMax: 0, apcCost: 0))
        // Only gains: no tail to compare with; no exception; no notional.
        let gains = EfficiencyMetrics(margin: [5, 5], realisedLoss: [-1, -2], notional: [], marginWithoutAPC: [0, 0])
        #expect(gains.marginOverQ99Loss == 0 && gains.breachLossToMarginMax == 0 && gains.meanMarginPctNotional == 0 && gains.apcCost == 0)
    }

    @Test func procyclicalityOverTenDays() {
        let margin = (0..<20).map { $0 < 10 ? 100.0 : 180.0 }
        let m = ProcyclicalityMetrics(margin: margin)
        #expect(abs(m.maxIncrease10d - 0.8) < 1e-15 && abs(m.maxIncrease5d - 0.8) < 1e-15 && m.maxIncrease30d == 0)
    }

    @Test func forecastLossesOfAHandSeries() {
        let loss = ForecastLoss(forecasts: [1e-4, 4e-4, -1], returns: [0.01, 0.04, 0.1])
        #expect(loss.observations == 2)
        // QLIKE: ln σ² + r²/σ²; MSE: (r² − σ²)².
        let qlike = ((log(1e-4) + 1) + (log(4e-4) + 4)) / 2
        #expect(abs(loss.qlike - qlike) < 1e-12)
        #expect(abs(loss.mse - (0 + (16e-4 - 4e-4) * (16e-4 - 4e-4)) / 2) < 1e-20)
        #expect(ForecastLoss(forecasts: [], returns: []) == ForecastLoss(observations: 0, qlike: 0, mse: 0))
    }
}
