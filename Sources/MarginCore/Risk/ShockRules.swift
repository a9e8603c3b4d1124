/// Term-scaled volatility shocks.
///
/// For an expiry `DTE` days away, `m = (referenceDays / max(DTE, dteFloorDays))^p` with
/// `p = shortTermPower` when `DTE ≤ termSwitchDays` and `longTermPower` otherwise. The up shock
/// multiplies volatility by `1 + rangeUp·m` (never evaluating below `minimumVolatilityUp`), the
/// down shock by `max(0, 1 − rangeDown·m)`.
public struct VolatilityShockRule: Sendable, Hashable {
    public var rangeUp: Double
    public var rangeDown: Double
    public var shortTermPower: Double
    public var longTermPower: Double
    public var dteFloorDays: Double
    public var minimumVolatilityUp: Double
    public var referenceDays: Double
    public var termSwitchDays: Double

    public init(rangeUp: Double, rangeDown: Double, shortTermPower: Double, longTermPower: Double,
                dteFloorDays: Double = 1, minimumVolatilityUp: Double = 0, referenceDays: Double = 30, termSwitchDays: Double = 30) {
        self.rangeUp = rangeUp
        self.rangeDown = rangeDown
        self.shortTermPower = shortTermPower
        self.longTermPower = longTermPower
        self.dteFloorDays = dteFloorDays
        self.minimumVolatilityUp = minimumVolatilityUp
        self.referenceDays = referenceDays
        self.termSwitchDays = termSwitchDays
    }

    /// The up and down volatility multipliers for an expiry `secondsToExpiry` away.
    public func multipliers(secondsToExpiry: Double) -> (up: Double, down: Double) {
        let floorSeconds = max(dteFloorDays * 86_400, 1)
        let scale = referenceDays * 86_400 / max(secondsToExpiry, floorSeconds)
        let power = secondsToExpiry <= termSwitchDays * 86_400 ? shortTermPower : longTermPower
        let m = CMath.pow(scale, power)
        return (1 + rangeUp * m, max(0, 1 - rangeDown * m))
    }
}

/// Skew scenarios: volatility at log-moneyness `k = ln(K/F)` is multiplied by
/// `max(0, 1 + clamp(k·cap/k*, −cap, cap))` where, with `√τ` the root of the time to expiry in years,
/// `cap = baseCap + cBase·√τ` and `k* = max(minKStar, √τ·widthScale·(volParamStatic + √τ·volParamScale))`.
/// The linear tilt uses k; the absolute tilt uses |k| (both wings up).
public struct SkewShockRule: Sendable, Hashable {
    public var linearBaseCap: Double
    public var linearCBase: Double
    public var absoluteBaseCap: Double
    public var absoluteCBase: Double
    public var minKStar: Double
    public var widthScale: Double
    public var volParamStatic: Double
    public var volParamScale: Double

    public init(linearBaseCap: Double, linearCBase: Double, absoluteBaseCap: Double, absoluteCBase: Double,
                minKStar: Double, widthScale: Double, volParamStatic: Double, volParamScale: Double) {
        self.linearBaseCap = linearBaseCap
        self.linearCBase = linearCBase
        self.absoluteBaseCap = absoluteBaseCap
        self.absoluteCBase = absoluteCBase
        self.minKStar = minKStar
        self.widthScale = widthScale
        self.volParamStatic = volParamStatic
        self.volParamScale = volParamScale
    }

    /// The volatility multiplier for an option at log-moneyness `k`, `timeToExpiry` years away.
    public func multiplier(logMoneyness k: Double, timeToExpiry: Double, absolute: Bool) -> Double {
        let rootTau = timeToExpiry.squareRoot()
        let cap = absolute ? absoluteCBase * rootTau + absoluteBaseCap : linearCBase * rootTau + linearBaseCap
        let kStar = max(minKStar, rootTau * widthScale * (volParamStatic + rootTau * volParamScale))
        let x = absolute ? abs(k) : k
        // A zero k* (all width parameters zero) makes the tilt a step: ±cap off the money, 0 at it.
        let slope = kStar > 0 ? x * cap / kStar : (x == 0 ? 0 : (x > 0 ? Double.infinity : -Double.infinity))
        let tilt = x >= 0 ? min(cap, slope) : max(-cap, slope)
        return max(0, 1 + tilt)
    }
}

