/// The right an option conveys.
public enum OptionRight: String, Sendable, Hashable, CaseIterable {
    case call
    case put
}

/// How a derivative's premium and profit are paid.
///
/// - `linear`: quoted and settled in the venue's valuation asset (a stablecoin such as USDC);
///   one contract pays `contractSize × (price move in USD)` units of the valuation asset.
/// - `inverse`: settled in the underlying coin (Deribit's BTC futures and options). An inverse
///   option is worth `linear value / forward` coins; an inverse future of face `contractSize` USD
///   bought at `entry` pays `contractSize × (1/entry − 1/exit)` coins.
public enum Settlement: String, Sendable, Hashable, CaseIterable {
    case linear
    case inverse
}

/// What an instrument is. Expiries are Unix epoch milliseconds (UTC).
public enum InstrumentKind: Sendable, Hashable {
    /// A spot asset that accounts hold as a balance (collateral or cash), e.g. `BTC`, `USDC`, `WEETH`.
    case spot
    /// A dated future that settles at `expiryMs` against the underlying's index.
    case future(expiryMs: Int64)
    /// A perpetual swap marked at the underlying market's perpetual mark price.
    case perpetual
    /// A European option on the forward of its expiry. `strike` is in USD per unit of underlying.
    case option(expiryMs: Int64, strike: Double, right: OptionRight)

    /// The expiry in Unix epoch milliseconds, for futures and options.
    public var expiryMs: Int64? {
        switch self {
        case .future(let expiry), .option(let expiry, _, _): return expiry
        case .spot, .perpetual: return nil
        }
    }

    /// Whether the instrument's value moves one-for-one with the underlying (spot, futures, perpetuals).
    public var isDeltaOne: Bool {
        if case .option = self { return false }
        return true
    }
}

/// A tradable instrument or holdable asset, as defined by the venue.
///
/// Units: `contractSize` is underlying units per contract for linear instruments and for inverse
/// options; for inverse futures and perpetuals it is the USD face value of one contract (Deribit's
/// BTC future is 10 USD). `lotSize` is the smallest tradable quantity in contracts, `tickSize` the
/// price increment in the instrument's quote units (USD for linear and inverse futures; coins per
/// contract for inverse options; USD for linear options).
public struct Instrument: Sendable, Hashable {
    /// Venue-wide unique name, e.g. `BTC-26JUN20-9000-C` or `BTC-PERPETUAL`.
    public var name: String
    /// The underlying market whose index, forwards and volatility price this instrument
    /// (for spot assets: the risk unit the balance moves with, e.g. `ETH` for `WEETH`).
    public var underlying: String
    public var kind: InstrumentKind
    public var settlement: Settlement
    public var contractSize: Double
    public var lotSize: Double
    public var tickSize: Double

    public init(
        name: String, underlying: String, kind: InstrumentKind, settlement: Settlement = .linear,
        contractSize: Double = 1, lotSize: Double = 0.01, tickSize: Double = 0.01
    ) {
        self.name = name
        self.underlying = underlying
        self.kind = kind
        self.settlement = settlement
        self.contractSize = contractSize
        self.lotSize = lotSize
        self.tickSize = tickSize
    }

    /// Checks that the definition is usable: positive finite sizes, positive strike, known kind.
    public func validate() throws(MarginError) {
        guard !name.isEmpty else { throw .invalidInput(field: "instrument.name", reason: "must not be empty") }
        guard !underlying.isEmpty else { throw .invalidInput(field: "instrument \(name).underlying", reason: "must not be empty") }
        _ = try contractSize.requirePositive("instrument \(name).contract_size")
        _ = try lotSize.requirePositive("instrument \(name).lot_size")
        _ = try tickSize.requirePositive("instrument \(name).tick_size")
        if case .option(_, let strike, _) = kind {
            _ = try strike.requirePositive("instrument \(name).strike")
        }
        if let expiry = kind.expiryMs, expiry <= 0 {
            throw .invalidInput(field: "instrument \(name).expiry_ms", reason: "must be a positive epoch time in ms")
        }
    }
}
