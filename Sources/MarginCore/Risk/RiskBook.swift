/// Risk arrays of every listed option on one underlying, for one market snapshot and one
/// risk-parameter set: the value of one contract (in valuation-asset units) under every scenario,
/// by full Black-76 revaluation, laid out contiguously so that an account's scenario PnL is a sum
/// of `quantity × row` (SIMD multiply-adds).
///
/// Row layout per option (`stride` doubles, a multiple of four SIMD widths):
/// `[scenario 0 … scenario S−1, current value, basis-up value, basis-down value, padding]`.
/// A market tick rebuilds the book once; every account exposed to the underlying then re-margins
/// by aggregation only.
public final class RiskBook: Sendable {
    /// Per-expiry quantities shared by the options of that expiry.
    public struct ExpiryGroup: Sendable, Hashable {
        public let expiryMs: Int64
        /// Years to expiry (365-day years), ≥ 0.
        public let timeToExpiry: Double
        public let forward: Double
        public let forwardFixedPortion: Double
        /// Continuously compounded rate used for discounting, floored at 0.
        public let rate: Double
        public let discount: Double
        public let volatilityUp: Double
        public let volatilityDown: Double
        /// Static discount factors for positive and negative shocked values (1 when disabled).
        public let staticDiscountPositive: Double
        public let staticDiscountNegative: Double
        /// `addFactor + multFactor·τ` of the basis contingency (0 when disabled).
        public let basisFactor: Double
        /// min(forward, rate, volatility) confidence of the expiry.
        public let confidence: Double
        /// Slots of this expiry's options: `slotRange.lowerBound..<slotRange.upperBound`.
        public let slotRange: Range<Int>
    }

    public let underlying: String
    public let parameterSetId: String
    public let parameterSetVersion: Int64
    /// The ``InstrumentCatalog/revision`` the slot layout was built from.
    public let catalogRevision: UInt64
    public let parameters: RiskUnitParameters
    public let market: UnderlyingMarket
    /// The time the arrays were computed for (Unix epoch ms).
    public let asOfMs: Int64
    /// USD price of one unit of the valuation asset.
    public let valuationPrice: Double
    public let scenarios: [Scenario]
    public let expiries: [ExpiryGroup]
    /// Option instruments in slot order.
    public let instruments: [Instrument]
    /// Mark volatility of each slot.
    public let markVolatilities: [Double]
    /// Slot expiry-group index.
    let slotExpiry: [Int]
    /// Per-slot constants of the layout, reused across market ticks: expiry, strike (USD), its log and
    /// reciprocal, call/put sign, contract size and settlement.
    struct SlotTerms: Sendable {
        var expiryMs: Int64
        var strike: Double
        var logStrike: Double
        var inverseStrike: Double
        /// +1 for calls, −1 for puts.
        var sign: Double
        var contractSize: Double
        /// 1 for inverse options, 0 for linear.
        var inverse: Double

        init(_ instrument: Instrument) {
            guard case .option(let expiryMs, let strike, let right) = instrument.kind else {
                self.init(expiryMs: instrument.kind.expiryMs ?? 0, strike: 0, sign: 0, contractSize: instrument.contractSize, inverse: 0)
                return
            }
            self.init(expiryMs: expiryMs, strike: strike, sign: right == .call ? 1 : -1, contractSize: instrument.contractSize,
                      inverse: instrument.settlement == .inverse ? 1 : 0)
        }

        init(expiryMs: Int64, strike: Double, sign: Double, contractSize: Double, inverse: Double) {
            self.expiryMs = expiryMs
            self.strike = strike
            self.logStrike = CMath.log(strike)
            self.inverseStrike = 1 / strike
            self.sign = sign
            self.contractSize = contractSize
            self.inverse = inverse
        }
    }
    let slotTerms: [SlotTerms]
    /// Per expiry group: static discount factors and the basis factor, flat for the hot loop.
    let expiryFactors: [(positive: Double, negative: Double, basis: Double)]
    let slotByName: [String: Int]

    public let scenarioCount: Int
    /// The grid's scenarios are columns `0..<gridScenarioCount`; the joint scenario set's columns
    /// (``Scenario/Kind/historical``) follow, up to `scenarioCount`.
    public let gridScenarioCount: Int
    /// Number of doubles per row (scenarios + 3 extra columns, padded to the SIMD width).
    public let stride: Int
    public var currentColumn: Int { scenarioCount }
    public var basisUpColumn: Int { scenarioCount + 1 }
    public var basisDownColumn: Int { scenarioCount + 2 }
    /// Scenario lanes padded to the SIMD width.
    let paddedScenarioCount: Int
    /// Whether the valuation asset is this underlying (a coin-margined set): every column's value
    /// is then divided by its own spot shock, as a coin-settled venue's risk vectors are.
    public let valuationFollowsUnderlying: Bool
    /// How a delta-one exposure moves per padded scenario lane (0 in padding):
    /// `PnL = (notional × deltaOneMoves + value × valueMoves) × dampening`, with `G` the lane's
    /// delta-one shock (``RiskUnitParameters/deltaOneShock(_:range:)``) and `V` the valuation
    /// asset's own shock (`G` when ``valuationFollowsUnderlying``, else 1): `(G − 1)/V` and `1/V − 1`.
    let deltaOneMoves: [Double]
    let valueMoves: [Double]
    /// Dampening per padded scenario lane (0 in padding).
    let dampenings: [Double]
    /// The lowest and highest spot shock of the regular scenarios (``RiskUnitParameters/regularRange``).
    let regularRange: (lowest: Double, highest: Double)
    /// The grid columns the ``adjustment`` acts on, and whether each is a tail scenario.
    let adjustedColumns: [(column: Int, tail: Bool)]
    /// The extended dampener and gain credit in valuation units.
    public let adjustment: ScenarioVectorAdjustment
    /// Black-76 delta per option slot (underlying units per contract), when the unit has a
    /// ``DeltaShockRule``; empty otherwise.
    let slotDeltas: [Double]
    /// 1 for skew scenarios, 0 otherwise, per padded lane.
    let skewFlags: [Double]
    /// Whether any scenario is a skew scenario (whose per-expiry losses count whatever their sign).
    let hasSkewScenarios: Bool
    /// Row-major values: `values[slot * stride + column]`, valuation units per contract.
    let values: [Double]
    /// Single-option and delta-one-only exposures at unit scale, when the book has joint scenario
    /// columns (built with the set's tail shape; nil otherwise).
    let singleExposures: SingleExposureTable?

    /// Builds the arrays for every option on `market.underlying` in `instruments`.
    ///
    /// Pass the underlying's previous book as `reusing` when only the market moved: if it was built
    /// from the same catalog revision, its slot layout (sorted options, name index) is reused and
    /// only the values are recomputed.
    public convenience init(
        market: UnderlyingMarket, instruments catalog: InstrumentCatalog, parameters: RiskUnitParameters,
        parameterSetId: String, parameterSetVersion: Int64, valuationPrice: Double, asOfMs: Int64,
        valuationFollowsUnderlying: Bool = false, reusing previous: RiskBook? = nil
    ) throws(MarginError) {
        try self.init(market: market, instruments: catalog, parameters: parameters, parameterSetId: parameterSetId,
                      parameterSetVersion: parameterSetVersion, valuationPrice: valuationPrice, asOfMs: asOfMs,
                      valuationFollowsUnderlying: valuationFollowsUnderlying, reusing: previous, jointTail: nil)
    }

    /// As the public initializer; with `jointTail` (the joint scenario set's shape) the book also
    /// holds its ``SingleExposureTable``. The risk arrays and the table are built on `parallelism`
    /// (the same values whatever it is).
    init(
        market: UnderlyingMarket, instruments catalog: InstrumentCatalog, parameters: RiskUnitParameters,
        parameterSetId: String, parameterSetVersion: Int64, valuationPrice: Double, asOfMs: Int64,
        valuationFollowsUnderlying: Bool, reusing previous: RiskBook?, jointTail: JointTail?, parallelism: Parallelism = .serial
    ) throws(MarginError) {
        try market.validate()
        _ = try valuationPrice.requirePositive("valuation asset price")
        self.underlying = market.underlying
        self.parameterSetId = parameterSetId
        self.parameterSetVersion = parameterSetVersion
        self.catalogRevision = catalog.revision
        self.parameters = parameters
        self.market = market
        self.asOfMs = asOfMs
        self.valuationPrice = valuationPrice
        self.scenarios = parameters.scenarios
        let scenarioCount = parameters.scenarios.count
        self.scenarioCount = scenarioCount
        self.gridScenarioCount = parameters.scenarios.firstIndex { $0.kind == .historical } ?? scenarioCount
        let lanes = DoubleLanes.scalarCount
        // Rows are padded to a multiple of four SIMD chunks (the aggregation unrolls by four).
        let rowQuantum = 4 * lanes
        self.stride = (scenarioCount + 3 + rowQuantum - 1) / rowQuantum * rowQuantum
        self.paddedScenarioCount = (scenarioCount + lanes - 1) / lanes * lanes

        self.valuationFollowsUnderlying = valuationFollowsUnderlying
        var deltaOneMoves = [Double](repeating: 0, count: paddedScenarioCount)
        var valueMoves = [Double](repeating: 0, count: paddedScenarioCount)
        var dampenings = [Double](repeating: 0, count: paddedScenarioCount)
        var skewFlags = [Double](repeating: 0, count: paddedScenarioCount)
        let range = parameters.regularRange
        self.regularRange = range
        for (index, scenario) in parameters.scenarios.enumerated() {
            let shock = parameters.deltaOneShock(scenario, range: range)
            let valuationShock = valuationFollowsUnderlying ? shock : 1
            deltaOneMoves[index] = (shock - 1) / valuationShock
            valueMoves[index] = 1 / valuationShock - 1
            dampenings[index] = scenario.dampening
            skewFlags[index] = scenario.volatilityShock.isSkew ? 1 : 0
        }
        self.deltaOneMoves = deltaOneMoves
        self.valueMoves = valueMoves
        self.dampenings = dampenings
        self.skewFlags = skewFlags
        self.hasSkewScenarios = skewFlags.contains(1)
        let adjustment = ScenarioVectorAdjustment(unit: parameters, valuationPrice: valuationPrice)
        self.adjustment = adjustment
        let gridCount = parameters.scenarios.firstIndex { $0.kind == .historical } ?? scenarioCount
        self.adjustedColumns = adjustment.isIdentity ? [] : (0..<gridCount).compactMap { column in
            let tail = parameters.scenarios[column].kind == .tail
            // Without gain credit only the tail columns change (by the dampener).
            guard tail || adjustment.gainFraction != 1 || adjustment.gainCap != .infinity else { return nil }
            return (column, tail)
        }

        let reusable = previous.flatMap { $0.catalogRevision == catalog.revision && $0.underlying == market.underlying ? $0 : nil }
        let options = reusable?.instruments ?? catalog.options(on: market.underlying)
        self.instruments = options
        let terms = reusable?.slotTerms ?? options.map(SlotTerms.init)
        self.slotTerms = terms
        let surface = VolatilitySurface(market: market, evaluation: parameters.smile)

        // Expiry groups, in slot order (options are sorted by expiry).
        var groups: [ExpiryGroup] = []
        var slotExpiry = [Int](repeating: 0, count: options.count)
        var markVolatilities = [Double](repeating: 0, count: options.count)
        var slotByName: [String: Int] = [:]
        var start = 0
        // Mark volatilities from the smiles (the instrument only when the market overrides some).
        let overrides = !market.markVolatilities.isEmpty
        while start < options.count {
            let expiryMs = terms[start].expiryMs
            var end = start
            while end < options.count, terms[end].expiryMs == expiryMs { end += 1 }
            let group = try Self.expiryGroup(expiryMs: expiryMs, surface: surface, parameters: parameters, asOfMs: asOfMs, slots: start..<end)
            let listed = market.expiry(at: expiryMs)
            for slot in start..<end {
                slotExpiry[slot] = groups.count
                if reusable == nil { slotByName[options[slot].name] = slot }
                if overrides {
                    markVolatilities[slot] = try surface.markVolatility(for: options[slot], nowMs: asOfMs)
                } else if let listed {
                    markVolatilities[slot] = surface.volatility(expiry: listed, strike: terms[slot].strike, nowMs: asOfMs)
                } else {
                    markVolatilities[slot] = try surface.volatility(expiryMs: expiryMs, strike: terms[slot].strike, nowMs: asOfMs)
                }
            }
            groups.append(group)
            start = end
        }
        self.expiries = groups
        self.expiryFactors = groups.map { ($0.staticDiscountPositive, $0.staticDiscountNegative, $0.basisFactor) }
        self.slotExpiry = slotExpiry
        self.markVolatilities = markVolatilities
        self.slotByName = reusable?.slotByName ?? slotByName

        var values = [Double](repeating: 0, count: options.count * stride)
        let stride = self.stride
        values.withUnsafeMutableBufferPointer { buffer in
            RiskArrayKernel.fill(
                rows: buffer, stride: stride, terms: terms, volatilities: markVolatilities,
                groups: groups, parameters: parameters, indexPrice: market.indexPrice, valuationPrice: valuationPrice,
                valuationFollowsUnderlying: valuationFollowsUnderlying, parallelism: parallelism
            )
        }
        self.values = values
        self.slotDeltas = parameters.deltaShock == nil ? [] : (0..<options.count).map { slot in
            Self.forwardDelta(terms: terms[slot], volatility: markVolatilities[slot], group: groups[slotExpiry[slot]])
        }
        let historicalColumns = scenarioCount - gridCount
        if let jointTail, historicalColumns > 0, historicalColumns == jointTail.scenarioCount * jointTail.columnsPerScenario {
            self.singleExposures = SingleExposureTable(.init(
                rows: values, stride: stride, slotCount: options.count, currentColumn: scenarioCount,
                basisColumns: (scenarioCount + 1, scenarioCount + 2), slotExpiry: slotExpiry,
                expiryFactors: groups.map { ($0.staticDiscountPositive, $0.staticDiscountNegative, $0.basisFactor) },
                staticDiscount: parameters.staticDiscount != nil, basisContingency: parameters.basisContingency != nil,
                dampenings: dampenings, skewFlags: skewFlags, deltaOneMoves: deltaOneMoves, gridCount: gridCount,
                scenarioCount: scenarioCount), tail: jointTail, parallelism: parallelism)
        } else {
            self.singleExposures = nil
        }
    }
}
