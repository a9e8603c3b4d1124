/// The published formulas the concentration add-on grows by.
public enum ConcentrationFormula {
    /// Drift's size premium (drift-labs/protocol-v2, `math/margin.rs`,
    /// `calculate_size_premium_liability_weight`): `max(w, 0.8·w + imf·√size)`, `size` in base-asset
    /// units. Drift computes it in fixed point (`√(10·size·1e9 + 1)/1e5`, truncated); this is the
    /// real-valued form (liability weight 1.1, imf 0.01, 1,000 units → 1.19623, Drift's 1.1962).
    public static func sizePremiumWeight(size: Double, imfFactor: Double, baseWeight: Double) -> Double {
        guard imfFactor > 0, size > 0 else { return baseWeight }
        return max(baseWeight, 0.8 * baseWeight + imfFactor * size.squareRoot())
    }

    /// dYdX v4's open-interest-scaled initial-margin fraction (dydxprotocol/v4-chain,
    /// `x/perpetuals/types/liquidity_tier.go`, `GetInitialMarginQuoteQuantums`): the base IMF up to
    /// the lower cap, rising linearly to 1 at the upper cap, `min(1, base + (1 − base)·(oi − lower)
    /// / (upper − lower))`; an upper cap of 0 disables the ramp (base 20 %, caps 1e12 and 2e12,
    /// open interest 1.5e12 → 60 %).
    public static func openInterestScaledFraction(base: Double, openInterest: Double, lowerCap: Double, upperCap: Double) -> Double {
        guard upperCap > 0, openInterest > lowerCap else { return base }
        guard openInterest < upperCap, upperCap > lowerCap else { return 1 }
        let scaling = (openInterest - lowerCap) / (upperCap - lowerCap)
        return min(1, base + max(0, scaling * (1 - base)))
    }
}

/// Concentration add-on: a position larger than a threshold fraction of its instrument's open
/// interest or 24 h volume is charged more, growing with the size beyond the threshold.
///
/// Per instrument: `q` = |position| (contracts); threshold `q* = min(openInterestFraction × OI,
/// volumeFraction × V)` over the statistics the book gives and that are above 0 (no add-on when
/// there is neither); `N = q × |Δ| ×` underlying notional per contract (Δ = 1 for futures and
/// perpetuals: options count by their delta-equivalent size); base rate `r₀ = L/N`, `L` the
/// position's own worst grid loss (its risk-array row, or notional × spot move, per grid scenario,
/// dampened; static discounting not applied). Then
/// - `sizePremium(imf)` (Drift): `r = max(r₀, 0.8·r₀ + imf·√((q − q*)⁺ × |Δ| × underlying units))`,
/// - `openInterestRamp(k)` (dYdX): `r = min(1, r₀ + (1 − r₀)·clamp((q − q*)/((k − 1)·q*), 0, 1))`
///   for `r₀ < 1`: full collateral (100 % of `N`) at `k` times the threshold,
///
/// and the add-on is `N·(r − r₀)⁺` for IM — for a long option at most its value less `L`, since it
/// cannot lose more — and `maintenanceFraction` of it for MM. Both shapes are 0 at the threshold
/// and grow with the size beyond it. Defaults (documented choices, not published venue values):
/// 10 % of open interest, 50 % of daily volume, `sizePremium` with imf 0.005 per √unit, a ramp to 2×
/// the threshold (dYdX's caps are 1:2), MM fraction 0.5.
public struct ConcentrationAddOnRule: Sendable, Hashable {
    public enum Shape: Sendable, Hashable {
        /// Drift's √size premium; `imfFactor` per √(underlying unit).
        case sizePremium(imfFactor: Double)
        /// dYdX's open-interest ramp, reaching full collateral at `upperMultiple` × the threshold (> 1).
        case openInterestRamp(upperMultiple: Double)

        /// `size_premium` or `open_interest_ramp`.
        public var name: String {
            switch self {
            case .sizePremium: return "size_premium"
            case .openInterestRamp: return "open_interest_ramp"
            }
        }
    }

    /// Threshold as a fraction of open interest (nil: not used).
    public var openInterestFraction: Double?
    /// Threshold as a fraction of 24 h volume (nil: not used).
    public var volumeFraction: Double?
    public var shape: Shape
    /// Share of the IM add-on that maintenance also charges, in [0, 1].
    public var maintenanceFraction: Double

    public init(openInterestFraction: Double? = 0.1, volumeFraction: Double? = 0.5, shape: Shape = .sizePremium(imfFactor: 0.005),
                maintenanceFraction: Double = 0.5) {
        self.openInterestFraction = openInterestFraction
        self.volumeFraction = volumeFraction
        self.shape = shape
        self.maintenanceFraction = maintenanceFraction
    }

    /// The threshold in contracts for a book's statistics, nil when neither applies (a statistic
    /// of 0 says nothing to measure against and is ignored).
    public func threshold(openInterest: Double?, volume: Double?) -> Double? {
        var result: Double?
        if let fraction = openInterestFraction, let openInterest, openInterest > 0 { result = fraction * openInterest }
        if let fraction = volumeFraction, let volume, volume > 0 { result = min(result ?? .infinity, fraction * volume) }
        return result
    }

    /// The concentrated rate for `quantity` contracts (≥ 0) above `threshold`, from base rate `base`.
    public func rate(quantity: Double, threshold: Double, base: Double, underlyingUnits: Double) -> Double {
        switch shape {
        case .sizePremium(let imf):
            return ConcentrationFormula.sizePremiumWeight(size: max(0, quantity - threshold) * underlyingUnits, imfFactor: imf, baseWeight: base)
        case .openInterestRamp(let multiple):
            guard base < 1 else { return base }
            if threshold <= 0 { return quantity > 0 ? 1 : base }
            return ConcentrationFormula.openInterestScaledFraction(base: base, openInterest: quantity, lowerCap: threshold,
                                                                   upperCap: multiple * threshold)
        }
    }

    public func validate(field: String) throws(MarginError) {
        for (name, value) in [("open_interest_fraction", openInterestFraction), ("volume_fraction", volumeFraction)] {
            if let value { _ = try value.requirePositive("\(field).\(name)") }
        }
        guard openInterestFraction != nil || volumeFraction != nil else {
            throw .invalidInput(field: field, reason: "needs open_interest_fraction or volume_fraction")
        }
        guard maintenanceFraction.isFinite, maintenanceFraction >= 0, maintenanceFraction <= 1 else {
            throw .invalidInput(field: "\(field).maintenance_fraction", reason: "must lie in [0, 1]")
        }
        switch shape {
        case .sizePremium(let imf): _ = try imf.requirePositive("\(field).imf_factor")
        case .openInterestRamp(let multiple):
            guard multiple.isFinite, multiple > 1 else { throw .invalidInput(field: "\(field).ramp_upper_multiple", reason: "must be > 1") }
        }
    }
}
