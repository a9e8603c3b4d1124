import Foundation
import MarginCore
import Testing
import MarginTesting

/// Known answers and properties of the dynamic risk model: EWMA, FHS, tail measures, APC.
@Suite struct RiskModelTests {
    static let day0 = UTCDay.parse("2020-01-01")!

    /// A joint history from closes per underlying, on consecutive days from 2020-01-01.
    static func history(_ closes: [String: [Double]]) throws -> JointHistory {
        try JointHistory(closes.map { name, series in
            try PriceHistory(underlying: name, days: series.indices.map { day0 + $0 }, closes: series)
        })
    }

    /// Seeded log-normal closes with a volatility regime per day.
    static func closes(days: Int, seed: UInt64, volatility: (Int) -> Double) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        var price = 100.0
        var result = [price]
        for d in 1..<days {
            let u1 = Double.random(in: 1e-12..<1, using: &generator), u2 = Double.random(in: 0..<1, using: &generator)
            let z = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
            price *= exp(volatility(d) * z)
            result.append(price)
        }
        return result
    }

    /// The settings these tests check the mechanics of: RiskMetrics EWMA, no bound on the
    /// revolatilisation, a 25 % phase-in step (each test switches on what it examines).
    static func mechanics() -> RiskModelSettings {
        var s = RiskModelSettings()
        s.volatilityModel = .ewma
        s.maxRevolatilisation = nil
        s.maxStep = 0.25
        return s
    }

    @Test func utcDaysRoundTrip() {
        #expect(UTCDay.parse("1970-01-01") == 0)
        #expect(UTCDay.parse("2020-03-12") == 18_333)
        #expect(UTCDay.format(18_333) == "2020-03-12")
        #expect(UTCDay.parse("2021-02-29") == nil)
        #expect(UTCDay.format(UTCDay.parse("2000-02-29")!) == "2000-02-29")
    }

    @Test func ewmaRecursionKnownAnswer() throws {
        let ewma = try EWMAVariance(lambda: 0.94, seedCount: 1)
        let f = ewma.forecasts([0.01, -0.02, 0.03])
        #expect(f.count == 4)
        #expect(abs(f[0] - 1e-4) < 1e-18)
        #expect(abs(f[1] - 1e-4) < 1e-18)
        #expect(abs(f[2] - 1.18e-4) < 1e-18)
        #expect(abs(f[3] - 1.6492e-4) < 1e-17)
    }

    @Test func devolatiliseAndRevolatiliseOnAHandSeries() throws {
        let closes = [100.0, 101, 99, 102, 101, 105]
        var settings = Self.mechanics()
        settings.seedReturns = 1
        settings.horizonDays = 1
        settings.apc = .none
        settings.priceRangeFloor = [:]
        let result = try RiskModelCalibrator(settings: settings).calibrate(Self.history(["X": closes]))
        let r = (1..<closes.count).map { log(closes[$0] / closes[$0 - 1]) }
        let f = try EWMAVariance(lambda: 0.94, seedCount: 1).forecasts(r)
        let sigmaT = f[r.count].squareRoot()
        // Scenarios start after the seed return: r[1...] devolatilised by their own forecast.
        let expected = (1..<r.count).map { r[$0] / f[$0].squareRoot() * sigmaT }
        let got = result.scenarios.logReturns["X"]!
        #expect(got.count == expected.count)
        for (a, b) in zip(got, expected) { #expect(abs(a - b) < 1e-15) }
        #expect(result.scenarios.labels.first == "2020-01-03")
        #expect(abs(result.underlyings["X"]!.appliedVolatility - sigmaT) < 1e-15)
    }

    @Test func horizonSumsOverlappingWindows() throws {
        let closes = Self.closes(days: 80, seed: 3) { _ in 0.02 }
        var one = Self.mechanics(), two = Self.mechanics()
        one.horizonDays = 1; two.horizonDays = 2
        one.apc = .none; two.apc = .none
        let daily = try RiskModelCalibrator(settings: one).calibrate(Self.history(["X": closes])).scenarios.logReturns["X"]!
        let twoDay = try RiskModelCalibrator(settings: two).calibrate(Self.history(["X": closes])).scenarios.logReturns["X"]!
        #expect(twoDay.count == daily.count - 1)
        for i in twoDay.indices { #expect(abs(twoDay[i] - (daily[i] + daily[i + 1])) < 1e-14) }
    }

    @Test func expectedShortfallAndValueAtRiskOfAKnownVector() {
        var pnl = (1...97).map(Double.init)
        pnl += [-10, -5, 0]
        let (valueAtRisk, es, tail) = TailMeasure.measure(pnl, confidence: 0.98)
        #expect(tail == [97, 98])
        #expect(valueAtRisk == 5)
        #expect(es == 7.5)
        #expect(es >= valueAtRisk)
        #expect(TailMeasure.tailCount(scenarios: 1000, confidence: 0.99) == 10)
        #expect(TailMeasure.tailCount(scenarios: 3, confidence: 0.99) == 1)
    }

    @Test func expectedShortfallIsAtLeastValueAtRiskOnRandomVectors() {
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<50 {
            let pnl = (0..<500).map { _ in Double.random(in: -100...100, using: &generator) }
            let m = TailMeasure.measure(pnl, confidence: 0.97)
            #expect(m.expectedShortfall >= m.valueAtRisk)
            let sorted = pnl.sorted()
            #expect(m.valueAtRisk == -sorted[m.tail.count - 1])
        }
    }

    @Test func stressWeightRaisesCalmVolatilityTowardsTheStressPeriod() throws {
        // 400 calm days, a 60-day stress spike, then 300 calm days.
        let closes = Self.closes(days: 760, seed: 5) { d in (400..<460).contains(d) ? 0.08 : 0.01 }
        let h = try Self.history(["X": closes])
        var plain = Self.mechanics(); plain.apc = .none
        var weighted = Self.mechanics(); weighted.apc = RiskModelSettings.AntiProcyclicality(buffer: false, stressWeight: true, floor: false)
        let a = try RiskModelCalibrator(settings: plain).calibrate(h).underlyings["X"]!
        let b = try RiskModelCalibrator(settings: weighted).calibrate(h).underlyings["X"]!
        let expected = (0.75 * a.forecastVolatility * a.forecastVolatility + 0.25 * b.stressVolatility * b.stressVolatility).squareRoot()
        #expect(abs(b.appliedVolatility - expected) < 1e-15)
        #expect(b.stressVolatility > 3 * a.forecastVolatility)
        #expect(b.priceRange > a.priceRange)
        #expect(b.apcAddOn > 0)
        #expect(a.apcAddOn == 0)
    }

    @Test func floorHoldsTheTenYearValues() throws {
        let closes = Self.closes(days: 760, seed: 5) { d in d < 700 ? 0.05 : 0.005 }
        let h = try Self.history(["X": closes])
        var floor = Self.mechanics(); floor.apc = RiskModelSettings.AntiProcyclicality(buffer: false, stressWeight: false, floor: true)
        let c = try RiskModelCalibrator(settings: floor).calibrate(h).underlyings["X"]!
        #expect(c.appliedVolatility == c.floorVolatility)
        #expect(c.appliedVolatility > 3 * c.forecastVolatility)
    }

    @Test func bufferIsConsumedWhenValuesRiseAndRebuiltWhenTheyFall() throws {
        let closes = Self.closes(days: 500, seed: 9) { d in d < 450 ? 0.01 : 0.04 }
        let h = try Self.history(["X": closes])
        var settings = Self.mechanics()
        settings.apc = RiskModelSettings.AntiProcyclicality(buffer: true, stressWeight: false, floor: false)
        settings.maxStep = 1
        let calibrator = try RiskModelCalibrator(settings: settings)
        let calm = h.days[440]
        let first = try calibrator.calibrate(h, asOfDay: calm)
        let x = first.underlyings["X"]!
        #expect(abs(x.appliedVolatility - 1.25 * x.forecastVolatility) < 1e-15)
        #expect(abs(x.bufferRemaining - 0.25) < 1e-12)
        // The next day's EWMA forecast rises: the buffer absorbs it before the margin moves.
        let next = try calibrator.calibrate(h, asOfDay: h.days[460], previous: ["X": first.state(for: "X")!]).underlyings["X"]!
        #expect(next.forecastVolatility > x.forecastVolatility)
        #expect(next.appliedVolatility >= next.forecastVolatility)
        #expect(next.appliedVolatility <= 1.25 * next.forecastVolatility + 1e-15)
        #expect(next.bufferRemaining < 0.25)
    }

    @Test func phaseInLimitsTheDailyStep() throws {
        let closes = Self.closes(days: 500, seed: 9) { d in d < 470 ? 0.01 : 0.3 }
        let h = try Self.history(["X": closes])
        var settings = Self.mechanics(); settings.apc = .none; settings.priceRangeFloor = [:]
        let calibrator = try RiskModelCalibrator(settings: settings)
        let before = try calibrator.calibrate(h, asOfDay: h.days[469])
        let after = try calibrator.calibrate(h, asOfDay: h.days[471], previous: ["X": before.state(for: "X")!]).underlyings["X"]!
        let previous = before.underlyings["X"]!
        #expect(after.phasedIn)
        #expect(abs(after.priceRange - previous.priceRange * 1.25 * 1.25) < 1e-12)
        #expect(after.targetPriceRange > after.priceRange)
        #expect(after.appliedVolatility <= previous.appliedVolatility * 1.25 * 1.25 + 1e-15)
    }

    @Test func calibrationIsDeterministic() throws {
        let h = try Self.history(["A": Self.closes(days: 400, seed: 1) { _ in 0.03 }, "B": Self.closes(days: 400, seed: 2) { _ in 0.04 }])
        let c = try RiskModelCalibrator()
        #expect(try c.calibrate(h) == c.calibrate(h))
        let mc1 = try c.calibrateMonteCarlo(h, method: .studentT(degreesOfFreedom: 4), count: 2_000, seed: 7)
        let mc2 = try c.calibrateMonteCarlo(h, method: .studentT(degreesOfFreedom: 4), count: 2_000, seed: 7)
        #expect(mc1 == mc2)
        #expect(mc1.scenarios.source == .monteCarlo)
        #expect(mc1.scenarios.scenarioCount == 2_000)
    }

    @Test func studentTDrawsHaveTheAppliedVolatilityAndCorrelation() throws {
        // Two underlyings driven by a common factor: correlation ≈ 0.8.
        var generator = SeededGenerator(seed: 21)
        var a = [100.0], b = [100.0]
        for _ in 1..<600 {
            let z1 = Double.random(in: -1.7...1.7, using: &generator), z2 = Double.random(in: -1.7...1.7, using: &generator)
            a.append(a.last! * exp(0.02 * z1))
            b.append(b.last! * exp(0.02 * (0.8 * z1 + 0.6 * z2)))
        }
        let h = try Self.history(["A": a, "B": b])
        var settings = RiskModelSettings(); settings.apc = .none; settings.horizonDays = 1
        let result = try RiskModelCalibrator(settings: settings).calibrateMonteCarlo(h, method: .studentT(degreesOfFreedom: 6), count: 40_000, seed: 3)
        let x = result.scenarios.logReturns["A"]!, y = result.scenarios.logReturns["B"]!
        let sx = (x.map { $0 * $0 }.reduce(0, +) / Double(x.count)).squareRoot()
        let sy = (y.map { $0 * $0 }.reduce(0, +) / Double(y.count)).squareRoot()
        let rho = zip(x, y).map { $0 * $1 }.reduce(0, +) / Double(x.count) / (sx * sy)
        #expect(abs(sx / result.underlyings["A"]!.appliedVolatility - 1) < 0.05)
        #expect(abs(sy / result.underlyings["B"]!.appliedVolatility - 1) < 0.05)
        #expect(rho > 0.6 && rho < 0.95)
    }

    @Test func csvLayoutsAndErrors() throws {
        let classic = "Date,Open,High,Low,Close,Adj Close,Volume,Ticker\n2020-01-01,1,1,1,100,100,5,BTC-USD\n2020-01-02,1,1,1,101,101,5,BTC-USD\n"
        let (a, layoutA) = try PriceHistory.parseCSV(classic, source: "a.csv")
        #expect(layoutA == .yfinanceClassic && a.underlying == "BTC" && a.closes == [100, 101])
        let multi = "Price,Close,High,Low,Open,Volume\nTicker,ETH-USD,ETH-USD,ETH-USD,ETH-USD,ETH-USD\nDate,,,,,\n2020-01-01,200,1,1,1,1\n2020-01-02,210,1,1,1,1\n"
        let (b, layoutB) = try PriceHistory.parseCSV(multi, source: "b.csv")
        #expect(layoutB == .yfinanceMultiIndex && b.underlying == "ETH" && b.closes == [200, 210])
        let plain = "date,close,atm_vol_30d\n2020-01-01,5,0.8\n2020-01-02,6,\n"
        let (c, layoutC) = try PriceHistory.parseCSV(plain, source: "sol.csv", underlying: "SOL")
        #expect(layoutC == .plain && c.impliedVolatility[30]! == [0.8, nil])
        for (text, line, words) in [
            ("date,close\n2020-01-01,5\n2020-01-01,6\n", 3, "duplicate"),
            ("date,close\n2020-01-02,5\n2020-01-01,6\n", 3, "before"),
            ("date,close\n2020-01-01,5\n2020-01-02,-6\n", 3, "positive"),
            ("date,close\n2020-01-01,5\n2020-01-02,\n", 3, "missing"),
            ("date,close\n2020-13-01,5\n", 2, "not a date"),
        ] {
            #expect {
                _ = try PriceHistory.parseCSV(text, source: "x.csv", underlying: "X")
            } throws: { error in
                "\(error)".contains("x.csv:\(line)") && "\(error)".contains(words)
            }
        }
    }
}
