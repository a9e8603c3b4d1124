/// Daily history of one underlying: closes on consecutive UTC days, and the ATM implied volatility
/// per tenor where it is known.
///
/// Days are counted from 1970-01-01 (UTC day 0); closes are USD prices, strictly positive and
/// finite; dates strictly increase (gaps are allowed: a return then spans the gap). The history is
/// data only: the loader (``PriceHistory/parseCSV(_:source:underlying:)``) and the risk model read
/// it, nothing mutates it.
public struct PriceHistory: Sendable, Hashable {
    public let underlying: String
    /// UTC day numbers, strictly increasing.
    public let days: [Int]
    /// Close prices (USD), one per day.
    public let closes: [Double]
    /// ATM implied volatility (annualised, 0.6 = 60 %) per tenor in days, per day, where known.
    public let impliedVolatility: [Int: [Double?]]

    public init(underlying: String, days: [Int], closes: [Double], impliedVolatility: [Int: [Double?]] = [:]) throws(MarginError) {
        guard !underlying.isEmpty else { throw .invalidInput(field: "history.underlying", reason: "must not be empty") }
        guard days.count == closes.count else {
            throw .invalidInput(field: "history[\(underlying)]", reason: "\(days.count) days but \(closes.count) closes")
        }
        for index in days.indices {
            _ = try closes[index].requirePositive("history[\(underlying)].close on \(UTCDay.format(days[index]))")
            if index > 0, days[index] <= days[index - 1] {
                throw .invalidInput(field: "history[\(underlying)].date", reason: "\(UTCDay.format(days[index])) does not follow \(UTCDay.format(days[index - 1]))")
            }
        }
        for (tenor, vols) in impliedVolatility where vols.count != days.count {
            throw .invalidInput(field: "history[\(underlying)].implied_volatility[\(tenor)]", reason: "\(vols.count) values for \(days.count) days")
        }
        self.underlying = underlying
        self.days = days
        self.closes = closes
        self.impliedVolatility = impliedVolatility
    }

    public var count: Int { days.count }
    public var firstDay: Int? { days.first }
    public var lastDay: Int? { days.last }

    /// The history up to and including `day` (no look-ahead).
    public func truncated(through day: Int) -> PriceHistory {
        var end = days.count
        while end > 0, days[end - 1] > day { end -= 1 }
        // The prefix of a valid history is valid.
        return PriceHistory(unchecked: underlying, days: Array(days[..<end]), closes: Array(closes[..<end]),
                            impliedVolatility: impliedVolatility.mapValues { Array($0[..<end]) })
    }

    init(unchecked underlying: String, days: [Int], closes: [Double], impliedVolatility: [Int: [Double?]]) {
        self.underlying = underlying
        self.days = days
        self.closes = closes
        self.impliedVolatility = impliedVolatility
    }

    /// The close on `day`, if the history has that day.
    public func close(on day: Int) -> Double? {
        var lo = 0, hi = days.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if days[mid] < day { lo = mid + 1 } else { hi = mid }
        }
        return lo < days.count && days[lo] == day ? closes[lo] : nil
    }
}

/// Histories of several underlyings on their common days: the joint history the simulation draws
/// whole dates from, so that the correlation of the history is carried into the scenarios.
public struct JointHistory: Sendable, Hashable {
    /// Underlyings in a fixed (sorted) order.
    public let underlyings: [String]
    /// UTC days present in every history, increasing.
    public let days: [Int]
    /// `closes[u][d]`: close of underlying `u` on `days[d]`.
    public let closes: [[Double]]
    /// `atmVolatility[u][d]`: the ATM implied volatility of underlying `u` on `days[d]` at the tenor
    /// nearest 30 days, where its history has one (all nil otherwise).
    public let atmVolatility: [[Double?]]
    /// Each underlying's own, whole history (same order as `underlyings`): its volatility, range,
    /// stress and floor are calibrated on it, not only on the common days.
    public let histories: [PriceHistory]

    public init(_ histories: [PriceHistory]) throws(MarginError) {
        guard !histories.isEmpty else { throw .invalidInput(field: "history", reason: "no underlying given") }
        let sorted = histories.sorted { $0.underlying < $1.underlying }
        for index in 1..<max(sorted.count, 1) where sorted[index].underlying == sorted[index - 1].underlying {
            throw .invalidInput(field: "history", reason: "underlying \(sorted[index].underlying) given twice")
        }
        var common = Set(sorted[0].days)
        for history in sorted.dropFirst() { common.formIntersection(history.days) }
        let days = common.sorted()
        guard days.count >= 2 else {
            throw .invalidInput(field: "history", reason: "the histories of \(sorted.map(\.underlying).joined(separator: ", ")) share fewer than 2 days")
        }
        self.underlyings = sorted.map(\.underlying)
        self.histories = sorted
        self.days = days
        func aligned<T>(_ history: PriceHistory, _ values: [T]) -> [T] {
            var result: [T] = []
            result.reserveCapacity(days.count)
            var cursor = 0
            for day in days {
                while history.days[cursor] < day { cursor += 1 }
                result.append(values[cursor])
            }
            return result
        }
        self.closes = sorted.map { aligned($0, $0.closes) }
        self.atmVolatility = sorted.map { history in
            guard let tenor = history.impliedVolatility.keys.min(by: { abs($0 - 30) < abs($1 - 30) || (abs($0 - 30) == abs($1 - 30) && $0 < $1) }) else {
                return [Double?](repeating: nil, count: days.count)
            }
            return aligned(history, history.impliedVolatility[tenor]!)
        }
    }

    /// Daily log returns `r[u][i] = ln(close[i+1]/close[i])`, dated by `days[i+1]`.
    public var logReturns: [[Double]] {
        closes.map { series in (1..<series.count).map { CMath.log(series[$0] / series[$0 - 1]) } }
    }
}

/// UTC calendar days as integers (days since 1970-01-01), without Foundation.
public enum UTCDay {
    /// `YYYY-MM-DD` (an optional time part after a space or `T` is ignored) → day number.
    public static func parse(_ text: Substring) -> Int? {
        let datePart = text.prefix { $0 != " " && $0 != "T" }
        let fields = datePart.split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count == 3, fields[0].count == 4, let y = Int(fields[0]), let m = Int(fields[1]), let d = Int(fields[2]),
              (1...12).contains(m), d >= 1, d <= daysInMonth(year: y, month: m) else { return nil }
        return dayNumber(year: y, month: m, day: d)
    }

    public static func parse(_ text: String) -> Int? { parse(Substring(text)) }

    /// Day number → `YYYY-MM-DD`.
    public static func format(_ day: Int) -> String {
        let (y, m, d) = civil(day)
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    /// Day number of a Unix time in milliseconds (floor).
    public static func day(ofUnixMs ms: Int64) -> Int {
        Int((ms >= 0 ? ms : ms - 86_399_999) / 86_400_000)
    }

    /// Unix milliseconds at 00:00 UTC of `day`.
    public static func unixMs(ofDay day: Int) -> Int64 { Int64(day) * 86_400_000 }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Howard Hinnant's `days_from_civil`.
    static func dayNumber(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Howard Hinnant's `civil_from_days`.
    static func civil(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
