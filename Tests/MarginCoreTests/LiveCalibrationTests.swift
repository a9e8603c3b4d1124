import Foundation
import MarginCore
import Testing

/// The live calibrator's state: daily closes from the stream, the intraday EWMA, when it is due,
/// and that a calibration never reads a later day.
@Suite struct LiveCalibrationTests {
    static let day0 = UTCDay.parse("2021-01-01")!

    static func seeded() throws -> LiveCalibration {
        var live = try LiveCalibration()
        let closes = RiskModelTests.closes(days: 800, seed: 4) { _ in 0.03 }
        // The seed also holds days after the market's "now": they must never be used.
        try live.seed(PriceHistory(underlying: "BTC", days: (0..<800).map { day0 + $0 }, closes: closes))
        return live
    }

    static func ms(day: Int, hour: Double) -> Int64 { UTCDay.unixMs(ofDay: day) + Int64(hour * 3_600_000) }

    @Test func aNewDayFinalisesTheLastPriceOfThePreviousOne() throws {
        var live = try Self.seeded()
        let day = Self.day0 + 600
        #expect(live.observe(underlying: "BTC", timestampMs: Self.ms(day: day, hour: 1), price: 100) == nil)
        #expect(live.observe(underlying: "BTC", timestampMs: Self.ms(day: day, hour: 23), price: 101) == nil)
        let closed = live.observe(underlying: "BTC", timestampMs: Self.ms(day: day + 1, hour: 0.5), price: 102)
        #expect(closed?.day == day && closed?.close == 101)
    }

    @Test func theHistoryStopsAtTodaysLatestPrice() throws {
        var live = try Self.seeded()
        let day = Self.day0 + 600
        _ = live.observe(underlying: "BTC", timestampMs: Self.ms(day: day, hour: 10), price: 123.5)
        let history = try live.history()
        #expect(history.days.last == day)
        #expect(history.closes[0].last == 123.5)
        #expect(history.days.count == 601)
    }

    @Test func aCrashTriggersARecalibrationThatRaisesTheRange() throws {
        var live = try Self.seeded()
        // The trigger and the recalibration are under test, not APC or the phase-in: RiskMetrics EWMA
        // without them, so the crash reaches the range at once.
        var settings = RiskModelTests.mechanics()
        settings.apc = .none
        let calibrator = try RiskModelCalibrator(settings: settings)
        let day = Self.day0 + 600
        var price = 100.0
        _ = live.observe(underlying: "BTC", timestampMs: Self.ms(day: day, hour: 12), price: price)
        #expect(live.due() == .initial)
        let before = try live.calibrate(with: calibrator, previous: [:])
        #expect(live.due() == nil)
        // −25 % over one simulated minute, in one-second snapshots.
        var reason: LiveCalibration.Reason?
        for second in 1...60 {
            price *= pow(0.75, 1.0 / 60)
            _ = live.observe(underlying: "BTC", timestampMs: Self.ms(day: day, hour: 12) + Int64(second) * 1_000, price: price)
            if reason == nil, let due = live.due() { reason = due }
        }
        guard case .volatilityMove(let underlying, let from, let to) = try #require(reason) else { Issue.record("expected a volatility move"); return }
        #expect(underlying == "BTC" && to > from)
        let state = try #require(before.state(for: "BTC"))
        let after = try live.calibrate(with: calibrator, previous: ["BTC": state])
        #expect(after.underlyings["BTC"]!.forecastVolatility > before.underlyings["BTC"]!.forecastVolatility)
        #expect(after.underlyings["BTC"]!.priceRange > before.underlyings["BTC"]!.priceRange)
    }
}

extension LiveCalibrationTests {
    @Test func anUnderlyingFirstSeenAfterACalibrationGetsABaseline() throws {
        var live = try Self.seeded()
        let calibrator = try RiskModelCalibrator()
        let day = Self.day0 + 600
        // A stablecoin (no history) is seen first and triggers the initial calibration.
        _ = live.observe(underlying: "USDC", timestampMs: Self.ms(day: day, hour: 12), price: 1)
        #expect(live.due() == .initial)
        _ = try live.calibrate(with: calibrator, previous: [:])
        _ = live.observe(underlying: "BTC", timestampMs: Self.ms(day: day, hour: 12) + 2_000, price: 100)
        #expect(live.due() == .firstSnapshot(underlying: "BTC"))
        _ = try live.calibrate(with: calibrator, previous: [:])
        #expect(live.due() == nil)
    }
}
