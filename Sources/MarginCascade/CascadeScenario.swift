import Foundation
import MarginBacktest
import MarginCore
import MarginDemo

/// The exogenous market of a cascade run: a path of index moves, volatility and skew multipliers
/// and displayed-depth multipliers, interpolated linearly between timestamped points, plus the
/// time step and the order books' recovery half-life.
///
/// JSON (a `--scenario FILE`):
/// `{"name", "description", "step_seconds", "book_half_life_seconds", "path": [{"t_seconds",
/// "index_move_pct", "vol_multiplier", "depth_multiplier", "skew_shift"?}, …]}` — `index_move_pct`
/// from the opening index (−12 = 12 % lower), `vol_multiplier` on implied volatility,
/// `depth_multiplier` on every displayed size, `skew_shift` lowers the smiles' ρ (default 0).
public struct CascadeScenario: Sendable, Hashable, Codable {
    public struct Point: Sendable, Hashable, Codable {
        public var seconds: Double
        public var indexMovePercent: Double
        public var volatilityMultiplier: Double
        public var depthMultiplier: Double
        public var skewShift: Double?

        public init(seconds: Double, indexMovePercent: Double, volatilityMultiplier: Double, depthMultiplier: Double, skewShift: Double? = nil) {
            self.seconds = seconds
            self.indexMovePercent = indexMovePercent
            self.volatilityMultiplier = volatilityMultiplier
            self.depthMultiplier = depthMultiplier
            self.skewShift = skewShift
        }

        enum CodingKeys: String, CodingKey {
            case seconds = "t_seconds", indexMovePercent = "index_move_pct", volatilityMultiplier = "vol_multiplier"
            case depthMultiplier = "depth_multiplier", skewShift = "skew_shift"
        }
    }

    public var name: String
    public var description: String
    /// Seconds between market steps; each step re-margins every account at least once.
    public var stepSeconds: Double
    /// Half-life of the books' recovery: depth taken by liquidations refills, and the price impact it
    /// caused decays, as `2^(−t / half-life)` (Obizhaeva & Wang 2013's resilience, exponential).
    public var bookHalfLifeSeconds: Double
    public var path: [Point]

    enum CodingKeys: String, CodingKey {
        case name, description, stepSeconds = "step_seconds", bookHalfLifeSeconds = "book_half_life_seconds", path
    }

    public init(name: String, description: String, stepSeconds: Double, bookHalfLifeSeconds: Double, path: [Point]) {
        self.name = name
        self.description = description
        self.stepSeconds = stepSeconds
        self.bookHalfLifeSeconds = bookHalfLifeSeconds
        self.path = path
    }

    /// The path's length in seconds.
    public var durationSeconds: Double { path.last?.seconds ?? 0 }
    public var stepCount: Int { Int((durationSeconds / stepSeconds).rounded(.up)) }

    /// The exogenous market at `seconds`: the move from the opening chain and the depth multiplier.
    public func state(atSeconds seconds: Double) -> (move: MarketMove, depthMultiplier: Double) {
        guard let first = path.first else { return (MarketMove(), 1) }
        var lower = first, upper = first
        if seconds >= durationSeconds {
            lower = path[path.count - 1]
            upper = lower
        } else if seconds > first.seconds {
            let index = path.firstIndex { $0.seconds > seconds } ?? path.count - 1
            lower = path[index - 1]
            upper = path[index]
        }
        let span = upper.seconds - lower.seconds
        let w = span > 0 ? min(1, max(0, (seconds - lower.seconds) / span)) : 0
        func mix(_ a: Double, _ b: Double) -> Double { a + (b - a) * w }
        let move = MarketMove(indexFactor: 1 + mix(lower.indexMovePercent, upper.indexMovePercent) / 100,
                              volatilityFactor: mix(lower.volatilityMultiplier, upper.volatilityMultiplier),
                              skewShift: mix(lower.skewShift ?? 0, upper.skewShift ?? 0))
        return (move, mix(lower.depthMultiplier, upper.depthMultiplier))
    }

    /// Refuses paths that cannot drive a market: fewer than two points, times not increasing from 0,
    /// non-finite numbers, moves of −100 % or beyond ±1000 %, multipliers outside (0, 20], a step
    /// outside [1 s, the path], not dividing it, or more than 5,000 steps, a half-life outside
    /// (0, 1 day].
    public func validate() throws(MarginError) {
        func fail(_ field: String, _ reason: String) -> MarginError { .invalidInput(field: "scenario.\(field)", reason: reason) }
        guard !name.isEmpty else { throw fail("name", "must not be empty") }
        guard path.count >= 2 else { throw fail("path", "needs at least two points") }
        guard path[0].seconds == 0 else { throw fail("path[0].t_seconds", "must be 0") }
        for (index, point) in path.enumerated() {
            let f = "path[\(index)]"
            guard point.seconds.isFinite, index == 0 || point.seconds > path[index - 1].seconds else {
                throw fail("\(f).t_seconds", "must be finite and increasing")
            }
            guard point.indexMovePercent.isFinite, point.indexMovePercent > -100, point.indexMovePercent <= 1000 else {
                throw fail("\(f).index_move_pct", "must lie in (−100, 1000]")
            }
            for (name, value) in [("vol_multiplier", point.volatilityMultiplier), ("depth_multiplier", point.depthMultiplier)] {
                guard value.isFinite, value > 0, value <= 20 else { throw fail("\(f).\(name)", "must lie in (0, 20]") }
            }
            if let skew = point.skewShift, !(skew.isFinite && abs(skew) <= 1.9) { throw fail("\(f).skew_shift", "must lie in [−1.9, 1.9]") }
        }
        guard stepSeconds.isFinite, stepSeconds >= 1, stepSeconds <= durationSeconds else {
            throw fail("step_seconds", "must lie in [1, the path's length]")
        }
        guard stepCount <= 5_000 else { throw fail("step_seconds", "\(stepCount) steps; at most 5,000") }
        let steps = durationSeconds / stepSeconds
        guard abs(steps - steps.rounded()) < 1e-9 else {
            throw fail("step_seconds", "must divide the path's length (\(durationSeconds) s) into whole steps")
        }
        guard bookHalfLifeSeconds.isFinite, bookHalfLifeSeconds > 0, bookHalfLifeSeconds <= 86_400 else {
            throw fail("book_half_life_seconds", "must lie in (0, 86400]")
        }
    }

    /// A scenario file (JSON, above), validated.
    public static func load(path: String) throws(MarginError) -> CascadeScenario {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalidInput(field: "scenario", reason: "cannot read \(path)")
        }
        let scenario: CascadeScenario
        do {
            scenario = try JSONDecoder().decode(CascadeScenario.self, from: data)
        } catch {
            throw .invalidInput(field: "scenario", reason: "\(path) is not a scenario: \(error)")
        }
        try scenario.validate()
        return scenario
    }

    /// `oct-2025`, `mar-2020`, or a file path.
    public static func named(_ name: String) throws(MarginError) -> CascadeScenario {
        switch name {
        case "oct-2025": return october2025
        case "mar-2020": return try march2020()
        default: return try load(path: name)
        }
    }

    public static let builtinNames = ["oct-2025", "mar-2020"]
}
