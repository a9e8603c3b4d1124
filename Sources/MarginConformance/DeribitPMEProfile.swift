import Foundation
import MarginCore

/// The engine's methodology profile reproducing Deribit's portfolio margin (the `private/pme/simulate`
/// API and the support article "Portfolio Margin"), built from the general components:
/// a 9-point price grid over ±`price_range` × vol up/unchanged/down, an extended table on vol up,
/// ``DeltaOneTailTreatment/standardRangeEdge``, the extended dampener and gain credit
/// (``ScenarioVectorAdjustment``), ``RollShockRule``, ``DeltaShockRule`` and `mm_factor`.
///
/// What the profile fixes that Deribit does not print with every response:
/// - ``extendedMoves``: −66 %, −33 %, +50 %, +100 %, +200 %, +300 %, +400 %, +500 % (the support
///   article's list; 8 entries, as the published vectors have);
/// - ``volatilityOrder``: each price point's three entries are vol up, unchanged, down;
/// - expiries at 08:00 UTC, years of 365 days, rate 0, and the DTE floor of the vol shock at 1 day;
/// - ``bucket(ofColumn:bucketsPerSide:extendedMoves:)``: how a vector position is named in
///   `worst_case_bucket` (inferred: the published example names the −16 % entry "bucket 1, side
///   left, index 1"; buckets and indices count from 1, from the left end of each side).
public enum DeribitPMEProfile {
    public static let extendedMoves: [Double] = [-0.66, -0.33, 0.5, 1, 2, 3, 4, 5]
    public static let volatilityOrder: [Scenario.VolatilityShock] = [.up, .none, .down]
    /// Deribit's expiries are at 08:00 UTC.
    public static let expiryTimeOfDayMs: Int64 = 8 * 3_600_000

    /// One currency pair's `model_params.currency_pair` entry (e.g. `btc_usd`).
    public struct PairParameters: Sendable, Hashable {
        public var priceRange: Double
        public var volatilityRangeUp: Double
        public var volatilityRangeDown: Double
        public var shortTermVegaPower: Double
        public var longTermVegaPower: Double
        public var minimumVolatilityForShockUp: Double
        public var extendedTableFactor: Double
        public var maxDeltaShock: Double
        public var deltaTotalLiquidityShockThreshold: Double

        public init(priceRange: Double, volatilityRangeUp: Double, volatilityRangeDown: Double, shortTermVegaPower: Double,
                    longTermVegaPower: Double, minimumVolatilityForShockUp: Double, extendedTableFactor: Double,
                    maxDeltaShock: Double, deltaTotalLiquidityShockThreshold: Double) {
            self.priceRange = priceRange
            self.volatilityRangeUp = volatilityRangeUp
            self.volatilityRangeDown = volatilityRangeDown
            self.shortTermVegaPower = shortTermVegaPower
            self.longTermVegaPower = longTermVegaPower
            self.minimumVolatilityForShockUp = minimumVolatilityForShockUp
            self.extendedTableFactor = extendedTableFactor
            self.maxDeltaShock = maxDeltaShock
            self.deltaTotalLiquidityShockThreshold = deltaTotalLiquidityShockThreshold
        }
    }

    /// One settlement currency's `model_params.currency` entry (e.g. `btc`, `usd`).
    public struct CurrencyParameters: Sendable, Hashable {
        public var extendedDampener: Double
        public var pnlOffset: Double
        public var maxOffsetablePnl: Double
        public var annualisedMoveRisk: Double
        public var minimumAnnualisedMove: Double

        public init(extendedDampener: Double, pnlOffset: Double, maxOffsetablePnl: Double, annualisedMoveRisk: Double,
                    minimumAnnualisedMove: Double) {
            self.extendedDampener = extendedDampener
            self.pnlOffset = pnlOffset
            self.maxOffsetablePnl = maxOffsetablePnl
            self.annualisedMoveRisk = annualisedMoveRisk
            self.minimumAnnualisedMove = minimumAnnualisedMove
        }
    }

    /// The published June 2024 values (`private/pme/simulate` example, timestamp 1718619740501):
    /// `btc_usd` and the `usd` currency (USDC-settled instruments), the set the `deribit-like`
    /// preset carries for BTC and ETH.
    public static let june2024Pair = PairParameters(
        priceRange: 0.16, volatilityRangeUp: 0.5, volatilityRangeDown: 0.25, shortTermVegaPower: 0.3, longTermVegaPower: 0.13,
        minimumVolatilityForShockUp: 0.5, extendedTableFactor: 1, maxDeltaShock: 0.1, deltaTotalLiquidityShockThreshold: 20_000_000)
    public static let june2024USD = CurrencyParameters(
        extendedDampener: 25_000, pnlOffset: 0, maxOffsetablePnl: 0, annualisedMoveRisk: 0.1, minimumAnnualisedMove: 0.01)
    public static let june2024MMFactor = 0.8

    /// The grid: `2·bucketsPerSide + 1` price points over ±`priceRange`, each × ``volatilityOrder``,
    /// then the extended moves on vol up with `extendedTableFactor` as their dampening.
    public static func scenarios(priceRange: Double, bucketsPerSide: Int, extendedTableFactor: Double) -> [Scenario] {
        var scenarios: [Scenario] = []
        for level in -bucketsPerSide...bucketsPerSide {
            let move = priceRange * Double(level) / Double(bucketsPerSide)
            for shock in volatilityOrder { scenarios.append(Scenario(spotShock: 1 + move, volatilityShock: shock, kind: .regular)) }
        }
        for move in extendedMoves {
            scenarios.append(Scenario(spotShock: 1 + move, volatilityShock: .up, dampening: extendedTableFactor, kind: .tail))
        }
        return scenarios
    }

    /// A risk unit with Deribit's semantics for one pair and one settlement currency.
    public static func unit(pair: PairParameters, currency: CurrencyParameters, mmFactor: Double, bucketsPerSide: Int = 4) -> RiskUnitParameters {
        RiskUnitParameters(
            scenarios: scenarios(priceRange: pair.priceRange, bucketsPerSide: bucketsPerSide, extendedTableFactor: pair.extendedTableFactor),
            volatilityShock: VolatilityShockRule(
                rangeUp: pair.volatilityRangeUp, rangeDown: pair.volatilityRangeDown, shortTermPower: pair.shortTermVegaPower,
                longTermPower: pair.longTermVegaPower, dteFloorDays: 1, minimumVolatilityUp: pair.minimumVolatilityForShockUp),
            maintenanceFactor: mmFactor, initialFactor: 1,
            deltaOneInTail: .standardRangeEdge, extendedDampener: currency.extendedDampener,
            gainCredit: GainCreditRule(pnlOffset: currency.pnlOffset, maxOffsetablePnl: currency.maxOffsetablePnl),
            rollShock: RollShockRule(annualisedMoveRisk: currency.annualisedMoveRisk, minimumAnnualisedMove: currency.minimumAnnualisedMove),
            deltaShock: DeltaShockRule(maxShock: pair.maxDeltaShock, liquidityThreshold: pair.deltaTotalLiquidityShockThreshold))
    }

    /// How `worst_case_bucket` names a vector position.
    public struct WorstCaseBucket: Sendable, Hashable, CustomStringConvertible {
        public var bucket: Int
        /// `left` (price down), `right` (price up) or `center` (unchanged).
        public var side: String
        /// `standard` or `extended`.
        public var source: String
        /// The volatility scenario within the bucket, from 1.
        public var index: Int

        public init(bucket: Int, side: String, source: String, index: Int) {
            self.bucket = bucket
            self.side = side
            self.source = source
            self.index = index
        }

        public var description: String { "bucket \(bucket) side \(side) source \(source) index \(index)" }
    }

    /// The name of grid column `column` (standard entries first, then the extended ones).
    public static func bucket(ofColumn column: Int, bucketsPerSide: Int, extendedMoves: [Double] = extendedMoves) -> WorstCaseBucket {
        let perPoint = volatilityOrder.count
        let standard = (2 * bucketsPerSide + 1) * perPoint
        if column < standard {
            let level = column / perPoint
            let index = column % perPoint + 1
            if level < bucketsPerSide { return WorstCaseBucket(bucket: level + 1, side: "left", source: "standard", index: index) }
            if level == bucketsPerSide { return WorstCaseBucket(bucket: 0, side: "center", source: "standard", index: index) }
            return WorstCaseBucket(bucket: level - bucketsPerSide, side: "right", source: "standard", index: index)
        }
        let position = column - standard
        let downs = extendedMoves.filter { $0 < 0 }.count
        if position < downs { return WorstCaseBucket(bucket: position + 1, side: "left", source: "extended", index: 1) }
        return WorstCaseBucket(bucket: position - downs + 1, side: "right", source: "extended", index: 1)
    }

    /// A Deribit instrument from its name: `BTC-PERPETUAL`, `BTC-28JUN24` (inverse, coin-settled),
    /// `BTC-28JUN24-60000-C`, and their USDC-settled linear twins `BTC_USDC-PERPETUAL`,
    /// `BTC_USDC-28JUN24`, `BTC_USDC-28JUN24-60000-C` (a `d` in a strike is its decimal point).
    /// Contract size 1: inverse futures count USD of face, everything else underlying units.
    public static func instrument(named name: String, path: String) throws(ConformanceError) -> Instrument {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, !parts[0].isEmpty else { throw .malformed(path: path, reason: "unknown instrument name '\(name)'") }
        let base = parts[0].split(separator: "_").map(String.init)
        guard base.count <= 2, let underlying = base.first, underlying.allSatisfy({ $0.isLetter || $0.isNumber }) else {
            throw .malformed(path: path, reason: "unknown instrument name '\(name)'")
        }
        let settlement: Settlement = base.count == 2 ? .linear : .inverse
        if base.count == 2, !["USDC", "USDT", "USD"].contains(base[1]) {
            throw .malformed(path: path, reason: "unknown settlement currency in instrument name '\(name)'")
        }
        if parts.count == 2, parts[1] == "PERPETUAL" {
            return Instrument(name: name, underlying: underlying, kind: .perpetual, settlement: settlement, contractSize: 1)
        }
        guard let expiryMs = expiry(parts[1]) else { throw .malformed(path: path, reason: "unknown instrument name '\(name)' (expiry '\(parts[1])')") }
        if parts.count == 2 {
            return Instrument(name: name, underlying: underlying, kind: .future(expiryMs: expiryMs), settlement: settlement, contractSize: 1)
        }
        guard parts.count == 4, let strike = Double(parts[2].replacingOccurrences(of: "d", with: ".")), strike.isFinite, strike > 0,
              let right: OptionRight = parts[3] == "C" ? .call : (parts[3] == "P" ? .put : nil) else {
            throw .malformed(path: path, reason: "unknown instrument name '\(name)'")
        }
        return Instrument(name: name, underlying: underlying, kind: .option(expiryMs: expiryMs, strike: strike, right: right),
                          settlement: settlement, contractSize: 1)
    }

    /// `28JUN24` → 2024-06-28 08:00 UTC in Unix ms.
    static func expiry(_ text: String) -> Int64? {
        let months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        guard text.count >= 6, text.count <= 7 else { return nil }
        let day = text.dropLast(5), month = text.dropFirst(text.count - 5).prefix(3), year = text.suffix(2)
        guard let d = Int(day), let m = months.firstIndex(of: String(month)), let y = Int(year),
              let dayNumber = UTCDay.parse("20\(year)-\(m < 9 ? "0" : "")\(m + 1)-\(d < 10 ? "0" : "")\(d)"), y >= 0 else { return nil }
        return UTCDay.unixMs(ofDay: dayNumber) + expiryTimeOfDayMs
    }
}
