import Foundation
import MarginBacktest
import MarginCore

extension CascadeScenario {
    /// 10 October 2025, stylised: the index falls 12 % over 45 minutes while implied volatility rises
    /// by 80 % and the displayed depth is cut to 15 %, then recovers a sixth of the fall in the next
    /// 30 minutes as depth returns. The 12 % and 45 minutes follow the account of the day
    /// (Amberdata: $6.9 bn liquidated in the 40 minutes from 20:50 UTC); the volatility and depth
    /// multipliers and the 60 s book half-life are stated choices. 30 s steps.
    public static let october2025 = CascadeScenario(
        name: "oct-2025",
        description: "12 % fall over 45 min, implied vol ×1.8, displayed depth cut to 15 %, partial recovery over 30 min",
        stepSeconds: 30, bookHalfLifeSeconds: 60,
        path: [
            Point(seconds: 0, indexMovePercent: 0, volatilityMultiplier: 1, depthMultiplier: 1),
            Point(seconds: 300, indexMovePercent: -1, volatilityMultiplier: 1.1, depthMultiplier: 0.7, skewShift: 0.02),
            Point(seconds: 1_200, indexMovePercent: -4, volatilityMultiplier: 1.3, depthMultiplier: 0.35, skewShift: 0.08),
            Point(seconds: 2_100, indexMovePercent: -9, volatilityMultiplier: 1.6, depthMultiplier: 0.2, skewShift: 0.15),
            Point(seconds: 2_700, indexMovePercent: -12, volatilityMultiplier: 1.8, depthMultiplier: 0.15, skewShift: 0.2),
            Point(seconds: 3_600, indexMovePercent: -10.5, volatilityMultiplier: 1.6, depthMultiplier: 0.35, skewShift: 0.15),
            Point(seconds: 4_500, indexMovePercent: -10, volatilityMultiplier: 1.5, depthMultiplier: 0.6, skewShift: 0.1),
        ])

    /// Share of the day's close-to-close move reached at each hour (UTC) of 12 March 2020: a stated
    /// profile (the bundled history is daily): a quiet morning, the main fall from 11:00 to 15:00, a
    /// second leg into the late evening that overshoots the close, a small rebound at midnight.
    static let march2020Profile: [(hour: Double, share: Double)] = [
        (0, 0), (6, 0.03), (10, 0.1), (12, 0.35), (15, 0.62), (18, 0.66), (22, 1.04), (24, 1),
    ]

    /// 12 March 2020 from the bundled BTC closes (11 March 7,911.43 → 12 March 4,970.79 USD,
    /// −37.2 %), shaped intraday by ``march2020Profile``; implied volatility rises with the share of
    /// the fall to ×2.2 and the displayed depth falls to 20 % (stated choices). 10-minute steps, a
    /// 5-minute book half-life.
    public static func march2020() throws(MarginError) -> CascadeScenario {
        guard let btc = try HistoryFiles.load("builtin").first(where: { $0.underlying == "BTC" }) else {
            throw .invalidInput(field: "scenario", reason: "the bundled BTC history is missing")
        }
        let day = UTCDay.parse("2020-03-12")
        guard let day, let index = btc.days.firstIndex(of: day), index > 0, btc.days[index - 1] == day - 1 else {
            throw .invalidInput(field: "scenario", reason: "the bundled BTC history has no close for 2020-03-11 and 2020-03-12")
        }
        let move = btc.closes[index] / btc.closes[index - 1] - 1
        let path = march2020Profile.map { hour, share in
            Point(seconds: hour * 3_600, indexMovePercent: 100 * move * share, volatilityMultiplier: 1 + 1.2 * min(1, share),
                  depthMultiplier: 1 - 0.8 * min(1, share), skewShift: 0.25 * min(1, share))
        }
        return CascadeScenario(
            name: "mar-2020",
            description: String(format: "12 March 2020: BTC %.0f → %.0f USD (%.1f %%) from the bundled closes, shaped intraday",
                                btc.closes[index - 1], btc.closes[index], 100 * move),
            stepSeconds: 600, bookHalfLifeSeconds: 300, path: path)
    }
}
