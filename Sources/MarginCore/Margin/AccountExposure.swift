/// An account resolved against the instrument catalog: positions grouped by underlying, option
/// positions mapped to their risk-book slots. Compiled once per account version (and again when the
/// catalog changes); margined many times as markets move. A class, so that passing it to the hot
/// path costs one reference count, not one per field.
public final class AccountExposure: Sendable {
    /// An option position of the account: its row in the underlying's risk book.
    struct OptionHolding: Sendable {
        var slot: Int
        var quantity: Double
        var positionIndex: Int
        /// `slot × stride`: where the option's row starts in the book's storage.
        var rowOffset: Int
    }

    /// Everything of the account that moves with one underlying.
    struct UnitExposure: Sendable {
        var underlying: String
        /// Option holdings sorted by slot, hence grouped by expiry, then strike.
        var options: [OptionHolding]
        /// Positions in futures and perpetuals on this underlying (indices into `account.positions`).
        var deltaOne: [Int]
        /// Balances revalued with this underlying (assets).
        var linkedBalances: [String]
        var holdsPerpetual: Bool
    }

    public let account: Account
    let units: [UnitExposure]
    /// The catalog revision the option slots refer to.
    public let catalogRevision: UInt64
    let instruments: [String: Instrument]

    /// The underlyings whose markets this account's margin depends on.
    public var underlyings: [String] { units.map(\.underlying) }

    /// Resolves `account` against `catalog` and the risk books of its underlyings (built from the
    /// same catalog revision). Throws for unknown instruments, spot assets held as positions,
    /// non-finite amounts, duplicate positions, and underlyings without parameters or book.
    public init(account: Account, catalog: InstrumentCatalog, books: [String: RiskBook], parameters: RiskParameters) throws(MarginError) {
        try account.validate(instruments: catalog)
        self.account = account
        self.catalogRevision = catalog.revision
        var used: [String: Instrument] = [:]
        var byUnderlying: [String: UnitExposure] = [:]
        func unit(_ underlying: String) -> UnitExposure {
            byUnderlying[underlying] ?? UnitExposure(underlying: underlying, options: [], deltaOne: [], linkedBalances: [], holdsPerpetual: false)
        }
        for (index, position) in account.positions.enumerated() where position.quantity != 0 {
            guard let instrument = catalog[position.instrument] else { throw .unknownInstrument(position.instrument) }
            used[instrument.name] = instrument
            guard parameters.riskUnit(for: instrument.underlying) != nil else {
                throw .missingParameters(underlying: instrument.underlying)
            }
            var entry = unit(instrument.underlying)
            switch instrument.kind {
            case .option:
                guard let book = books[instrument.underlying] else { throw .missingMarket(underlying: instrument.underlying) }
                guard book.catalogRevision == catalog.revision, let slot = book.slot(of: instrument.name) else {
                    throw .invalidInput(field: "risk book \(instrument.underlying)", reason: "built from another instrument catalog revision")
                }
                entry.options.append(OptionHolding(slot: slot, quantity: position.quantity, positionIndex: index, rowOffset: slot * book.stride))
            case .future:
                entry.deltaOne.append(index)
            case .perpetual:
                entry.deltaOne.append(index)
                entry.holdsPerpetual = true
            case .spot:
                break // refused by validate
            }
            byUnderlying[instrument.underlying] = entry
        }
        for (asset, amount) in account.balances.sorted(by: { $0.key < $1.key }) where amount != 0 && asset != parameters.valuationAsset {
            let underlying = catalog[asset]?.underlying ?? asset
            if let instrument = catalog[asset] { used[asset] = instrument }
            guard parameters.collateralParameters(for: asset).riskLinked, parameters.riskUnit(for: underlying) != nil else { continue }
            var entry = unit(underlying)
            entry.linkedBalances.append(asset)
            byUnderlying[underlying] = entry
        }
        for underlying in byUnderlying.keys where books[underlying] == nil {
            throw .missingMarket(underlying: underlying)
        }
        self.units = byUnderlying.values.map { value in
            var sorted = value
            sorted.options.sort { $0.slot < $1.slot }
            return sorted
        }.sorted { $0.underlying < $1.underlying }
        self.instruments = used
    }
}
