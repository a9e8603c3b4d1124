/// One market scenario of the risk grid.
///
/// `spotShock` multiplies the index and every forward (1.16 = +16%). `dampening` multiplies the
/// scenario's PnL (tail scenarios are dampened, e.g. 0.25). Skew scenarios tilt the smile at the
/// current forwards: options are revalued at unchanged forwards, and a spot shock, if given, moves
/// only the delta-one exposures (perpetuals, futures, linked collateral), as in Derive's PMRM_2.
public struct Scenario: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The core spot × volatility grid.
        case regular
        /// Extended moves, usually dampened.
        case tail
        /// Smile tilts at the current forwards.
        case skew
        /// A joint historical or Monte Carlo scenario of the dynamic risk model
        /// (``HistoricalScenarioSet``): extra risk-book columns, never part of the grid.
        case historical
    }

    public enum VolatilityShock: String, Sendable, Hashable, CaseIterable {
        case none
        case up
        case down
        /// Multiply each volatility by 1 + clamp(k·cap/k*, ±cap), k = ln(K/F).
        case skewLinear
        /// The same with |k|: both wings raised.
        case skewAbsolute

        public var isSkew: Bool { self == .skewLinear || self == .skewAbsolute }
    }

    public var spotShock: Double
    public var volatilityShock: VolatilityShock
    public var dampening: Double
    public var kind: Kind
    /// Multiplies the volatility after the shock (1 everywhere except historical scenarios whose
    /// source has implied-volatility history: the ATM vol's relative change over the window).
    public var volatilityScale: Double

    public init(spotShock: Double, volatilityShock: VolatilityShock, dampening: Double = 1, kind: Kind? = nil, volatilityScale: Double = 1) {
        self.spotShock = spotShock
        self.volatilityShock = volatilityShock
        self.dampening = dampening
        self.kind = kind ?? (volatilityShock.isSkew ? .skew : (dampening == 1 ? .regular : .tail))
        self.volatilityScale = volatilityScale
    }

    /// A short human label, e.g. `spot -16% vol up` or `skew linear x3`.
    public var label: String {
        if volatilityShock.isSkew {
            var name = volatilityShock == .skewLinear ? "skew linear" : "skew absolute"
            if spotShock != 1 { name += " spot \(spotMoveText)" }
            return dampening == 1 ? name : "\(name) x\(formatShort(dampening))"
        }
        var text = "spot \(spotMoveText) vol \(volatilityShock.rawValue)"
        if dampening != 1 { text += " x\(formatShort(dampening))" }
        return text
    }

    /// The spot move in percent with its sign, e.g. `-16%`, `+18%`, `0%`.
    public var spotMoveText: String {
        let move = (spotShock - 1) * 100
        let sign = move > 0 ? "+" : ""
        return "\(sign)\(formatShort(move))%"
    }
}

func formatShort(_ value: Double) -> String {
    let rounded = (value * 1000).rounded() / 1000
    if rounded == rounded.rounded() { return String(Int(rounded)) }
    return String(rounded)
}

