/// Raw SVI parameters of one expiry's volatility smile (Gatheral's "raw" parameterisation).
///
/// Total implied variance at log-moneyness `k = ln(K / F)` is
/// `w(k) = a + b·(ρ·(k − m) + √((k − m)² + σ²))`, and the implied volatility is `√(w / τ)`
/// (annualised, 0.8 = 80%).
public struct SVIParameters: Sendable, Hashable {
    public var a: Double
    public var b: Double
    public var rho: Double
    public var m: Double
    public var sigma: Double
    /// Year fraction the total variance refers to; `nil` means the expiry's own time to expiry.
    public var tau: Double?
    /// Forward against which `k` is measured; `nil` means the expiry's forward.
    public var referenceForward: Double?

    public init(a: Double, b: Double, rho: Double, m: Double, sigma: Double, tau: Double? = nil, referenceForward: Double? = nil) {
        self.a = a
        self.b = b
        self.rho = rho
        self.m = m
        self.sigma = sigma
        self.tau = tau
        self.referenceForward = referenceForward
    }

    /// Total variance at log-moneyness `k` (no wing clamp).
    @inlinable
    public func totalVariance(atLogMoneyness k: Double) -> Double {
        let x = k - m
        return a + b * (rho * x + (x * x + sigma * sigma).squareRoot())
    }

    /// Refuses parameters that can produce negative variance or are not finite: requires `b ≥ 0`,
    /// `|ρ| < 1`, `σ > 0` and the smile minimum `a + b·σ·√(1 − ρ²) ≥ 0`.
    public func validate(field: String) throws(MarginError) {
        for (name, value) in [("a", a), ("b", b), ("rho", rho), ("m", m), ("sigma", sigma)] {
            _ = try value.requireFinite("\(field).\(name)")
        }
        guard b >= 0 else { throw .invalidInput(field: "\(field).b", reason: "must be ≥ 0, got \(b)") }
        guard abs(rho) < 1 else { throw .invalidInput(field: "\(field).rho", reason: "must lie in (−1, 1), got \(rho)") }
        guard sigma > 0 else { throw .invalidInput(field: "\(field).sigma", reason: "must be > 0, got \(sigma)") }
        let minimum = a + b * sigma * (1 - rho * rho).squareRoot()
        guard minimum >= -1e-12 else {
            throw .invalidInput(field: "\(field)", reason: "smile has negative total variance (minimum \(minimum))")
        }
        if let tau { _ = try tau.requirePositive("\(field).tau") }
        if let referenceForward { _ = try referenceForward.requirePositive("\(field).reference_forward") }
    }
}

/// Market data for one listed expiry of an underlying.
///
/// Units: `forward` in USD per unit of underlying; `rate` is the continuously compounded annual
/// rate used for discounting (0.05 = 5%); confidences lie in [0, 1] (1 = fully trusted).
public struct ExpiryMarket: Sendable, Hashable {
    /// Expiry in Unix epoch milliseconds.
    public var expiryMs: Int64
    public var forward: Double
    /// Part of the forward already fixed by settlement averaging (USD); not moved by spot shocks.
    /// The shocked forward is `fixed + (forward − fixed) × shock`.
    public var forwardFixedPortion: Double
    public var forwardConfidence: Double
    public var rate: Double
    public var rateConfidence: Double
    public var smile: SVIParameters
    public var volatilityConfidence: Double

    public init(
        expiryMs: Int64, forward: Double, forwardFixedPortion: Double = 0, forwardConfidence: Double = 1,
        rate: Double = 0, rateConfidence: Double = 1, smile: SVIParameters, volatilityConfidence: Double = 1
    ) {
        self.expiryMs = expiryMs
        self.forward = forward
        self.forwardFixedPortion = forwardFixedPortion
        self.forwardConfidence = forwardConfidence
        self.rate = rate
        self.rateConfidence = rateConfidence
        self.smile = smile
        self.volatilityConfidence = volatilityConfidence
    }
}

/// A full market snapshot of one underlying, as published on the market topic.
///
/// Units: `indexPrice` and `perpetualMark` in USD per unit of underlying; confidences in [0, 1];
/// `timestampMs` Unix epoch milliseconds of the snapshot.
public struct UnderlyingMarket: Sendable, Hashable {
    public var underlying: String
    public var timestampMs: Int64
    public var indexPrice: Double
    public var indexConfidence: Double
    /// Listed expiries, sorted by `expiryMs` ascending.
    public var expiries: [ExpiryMarket]
    public var perpetualMark: Double?
    public var perpetualConfidence: Double
    /// Per-option mark volatility overriding the smile, keyed by instrument name.
    public var markVolatilities: [String: Double]
    /// Per-instrument order book (top of book, optional ladders, 24 h volume and open interest),
    /// keyed by instrument name.
    public var orderBooks: [String: OrderBook]

    public init(
        underlying: String, timestampMs: Int64, indexPrice: Double, indexConfidence: Double = 1,
        expiries: [ExpiryMarket] = [], perpetualMark: Double? = nil, perpetualConfidence: Double = 1,
        markVolatilities: [String: Double] = [:], orderBooks: [String: OrderBook] = [:]
    ) {
        self.underlying = underlying
        self.timestampMs = timestampMs
        self.indexPrice = indexPrice
        self.indexConfidence = indexConfidence
        self.expiries = expiries.sorted { $0.expiryMs < $1.expiryMs }
        self.perpetualMark = perpetualMark
        self.perpetualConfidence = perpetualConfidence
        self.markVolatilities = markVolatilities
        self.orderBooks = orderBooks
    }

    /// The listed expiry with exactly this time, if any.
    public func expiry(at expiryMs: Int64) -> ExpiryMarket? {
        var low = 0, high = expiries.count
        while low < high {
            let mid = (low + high) / 2
            if expiries[mid].expiryMs < expiryMs { low = mid + 1 } else { high = mid }
        }
        return low < expiries.count && expiries[low].expiryMs == expiryMs ? expiries[low] : nil
    }

    /// Rejects anything that would make a price meaningless: non-finite, zero or negative prices,
    /// confidences outside [0, 1], invalid smiles, duplicate or unsorted expiries.
    public func validate() throws(MarginError) {
        let field = "market \(underlying)"
        guard !underlying.isEmpty else { throw .invalidInput(field: "market.underlying", reason: "must not be empty") }
        _ = try indexPrice.requirePositive("\(field).index_price")
        _ = try indexConfidence.requireUnitInterval("\(field).index_confidence")
        _ = try perpetualConfidence.requireUnitInterval("\(field).perpetual_confidence")
        if let perpetualMark { _ = try perpetualMark.requirePositive("\(field).perpetual_mark") }
        var previous: Int64 = .min
        for (index, expiry) in expiries.enumerated() {
            let f = "\(field).expiries[\(index)]"
            guard expiry.expiryMs > previous else {
                throw .invalidInput(field: "\(f).expiry_ms", reason: "expiries must be unique and increasing")
            }
            previous = expiry.expiryMs
            _ = try expiry.forward.requirePositive("\(f).forward")
            _ = try expiry.forwardFixedPortion.requireFinite("\(f).forward_fixed_portion")
            guard expiry.forwardFixedPortion >= 0, expiry.forwardFixedPortion <= expiry.forward else {
                throw .invalidInput(field: "\(f).forward_fixed_portion", reason: "must lie in [0, forward]")
            }
            _ = try expiry.rate.requireFinite("\(f).rate")
            _ = try expiry.forwardConfidence.requireUnitInterval("\(f).forward_confidence")
            _ = try expiry.rateConfidence.requireUnitInterval("\(f).rate_confidence")
            _ = try expiry.volatilityConfidence.requireUnitInterval("\(f).volatility_confidence")
            try expiry.smile.validate(field: "\(f).smile")
        }
        for (name, vol) in markVolatilities {
            _ = try vol.requirePositive("\(field).mark_volatilities[\(name)]")
        }
        for (name, book) in orderBooks {
            try book.validate(field: "\(field).books[\(name)]")
        }
    }
}

/// The markets the engine currently knows, one snapshot per underlying.
public struct MarketState: Sendable, Hashable {
    public var underlyings: [String: UnderlyingMarket]

    public init(_ markets: [UnderlyingMarket] = []) {
        underlyings = Dictionary(markets.map { ($0.underlying, $0) }, uniquingKeysWith: { $1 })
    }

    public subscript(underlying: String) -> UnderlyingMarket? {
        get { underlyings[underlying] }
        set { underlyings[underlying] = newValue }
    }
}
