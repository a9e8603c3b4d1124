import Foundation
import MarginCore

/// One Deribit `private/pme/simulate` response (the JSON Deribit publishes, `{jsonrpc, result}` or a
/// bare `result`), translated into the engine's model once per currency in `margins`:
/// - the currency's parameter set: valuation asset the currency (coin-margined for `btc`, `eth`…;
///   USDC for `usd`/`usdc`), one risk unit per underlying from ``DeribitPMEProfile/unit(pair:currency:mmFactor:bucketsPerSide:)``;
/// - the market at `model_params.general.timestamp`: `index_price`, the perpetual's and futures'
///   `ticker` marks, options at their ticker's `mark_iv` on `underlying_price`, rate 0;
/// - the portfolio from `portfolio.position` (sizes in base currency): a future or perpetual of
///   size `q` is `q × mark` USD of face entered at the mark (inverse) or `q` units (linear).
/// `mmp_margin`, `open_orders_margin` and `spot_margin` are taken as published (the response does
/// not carry the orders behind them).
public struct DeribitPMECase: Sendable {
    /// One `margins.<currency>` block and what it is compared with.
    public struct CurrencyRun: Sendable {
        public var currency: String
        public var parameters: RiskParameters
        public var catalog: InstrumentCatalog
        public var markets: MarketState
        public var account: Account
        /// The currency's instruments with their sizes (base currency), by name.
        public var positions: [(name: String, size: Double)]
        /// Aggregated-vector key (`btc_btc`) per underlying.
        public var vectorKeys: [String: String]
        public var spotMargin: Double
        public var mmpMargin: Double
        public var openOrdersMargin: Double
        public var bucketsPerSide: Int
        /// Expected values by field, in comparison order.
        public var expected: [(field: String, value: Double)]
        public var expectedBucket: DeribitPMEProfile.WorstCaseBucket?
    }

    public let name: String
    public let timestampMs: Int64
    public let runs: [CurrencyRun]

    public init(name: String, data: Data) throws(ConformanceError) {
        self.name = name
        let root = try JSONValue(data: data, path: "$")
        let result = root["result"].exists ? root["result"] : root
        let model = result["model_params"]
        guard model.exists else { throw .malformed(path: model.path, reason: "missing") }
        let general = model["general"]
        let timestamp = try general["timestamp"].double()
        guard timestamp > 0 else { throw .malformed(path: general["timestamp"].path, reason: "must be a positive Unix time in ms") }
        self.timestampMs = Int64(timestamp)
        let mmFactor = try general["mm_factor"].double()
        let bucketsPerSide = Int(try general["buckets_count"].double())
        guard bucketsPerSide > 0 else { throw .malformed(path: general["buckets_count"].path, reason: "must be positive") }
        let volScenarios = try general["vol_scenarios_count"].double(default: 3)
        guard Int(volScenarios) == DeribitPMEProfile.volatilityOrder.count else {
            throw .malformed(path: general["vol_scenarios_count"].path, reason: "only 3 volatility scenarios (up, unchanged, down) are modelled")
        }

        // Every instrument of the portfolio, with its size.
        var instruments: [(Instrument, Double)] = []
        let positions = result["portfolio"]["position"]
        guard let sizes = positions.raw as? [String: Any] else { throw .malformed(path: positions.path, reason: "missing") }
        for name in sizes.keys.sorted() {
            let size = try positions[name].double()
            instruments.append((try DeribitPMEProfile.instrument(named: name, path: "\(positions.path).\(name)"), size))
        }
        guard let marginBlocks = result["margins"].raw as? [String: Any], !marginBlocks.isEmpty else {
            throw .malformed(path: result["margins"].path, reason: "missing")
        }
        var runs: [CurrencyRun] = []
        for currency in marginBlocks.keys.sorted() {
            runs.append(try Self.run(currency: currency, result: result, instruments: instruments, timestampMs: self.timestampMs,
                                     mmFactor: mmFactor, bucketsPerSide: bucketsPerSide))
        }
        self.runs = runs
    }

    /// Whether an instrument settles in `currency` (`btc` takes BTC's inverse instruments; `usd`,
    /// `usdc` the USDC-settled linear ones).
    static func settles(_ instrument: Instrument, in currency: String) -> Bool {
        if ["usd", "usdc"].contains(currency) { return instrument.settlement == .linear }
        return instrument.settlement == .inverse && instrument.underlying.lowercased() == currency
    }

    static func run(currency: String, result: JSONValue, instruments: [(Instrument, Double)], timestampMs: Int64,
                    mmFactor: Double, bucketsPerSide: Int) throws(ConformanceError) -> CurrencyRun {
        let model = result["model_params"]
        let block = result["margins"][currency]
        let linear = ["usd", "usdc"].contains(currency)
        let currencyBlock = model["currency"][currency].exists || !linear ? model["currency"][currency] : model["currency"]["usd"]
        guard currencyBlock.exists else { throw .malformed(path: currencyBlock.path, reason: "missing") }
        let currencyParameters = DeribitPMEProfile.CurrencyParameters(
            extendedDampener: try currencyBlock["extended_dampener"].double(), pnlOffset: try currencyBlock["pnl_offset"].double(),
            maxOffsetablePnl: try currencyBlock["max_offsetable_pnl"].double(),
            annualisedMoveRisk: try currencyBlock["annualised_move_risk"].double(),
            minimumAnnualisedMove: try currencyBlock["min_annualised_move"].double())
        let mine = instruments.filter { settles($0.0, in: currency) }
        let valuationAsset = linear ? "USDC" : currency.uppercased()

        var units: [String: RiskUnitParameters] = [:]
        var marketList: [UnderlyingMarket] = []
        var keys: [String: String] = [:]
        let ticker = result["ticker"]
        for underlying in Set(mine.map(\.0.underlying)).sorted() {
            let u = underlying.lowercased()
            let pairKey = model["currency_pair"]["\(u)_usd"].exists ? "\(u)_usd" : "\(u)_usdc"
            let pair = model["currency_pair"][pairKey]
            guard pair.exists else { throw .malformed(path: model["currency_pair"]["\(u)_usd"].path, reason: "missing") }
            let pairParameters = DeribitPMEProfile.PairParameters(
                priceRange: try pair["price_range"].double(), volatilityRangeUp: try pair["volatility_range_up"].double(),
                volatilityRangeDown: try pair["volatility_range_down"].double(),
                shortTermVegaPower: try pair["short_term_vega_power"].double(), longTermVegaPower: try pair["long_term_vega_power"].double(),
                minimumVolatilityForShockUp: try pair["min_volatility_for_shock_up"].double(),
                extendedTableFactor: try pair["extended_table_factor"].double(default: 1),
                maxDeltaShock: try pair["max_delta_shock"].double(),
                deltaTotalLiquidityShockThreshold: try pair["delta_total_liq_shock_threshold"].double())
            units[underlying] = DeribitPMEProfile.unit(pair: pairParameters, currency: currencyParameters, mmFactor: mmFactor,
                                                       bucketsPerSide: bucketsPerSide)
            let indexValue = result["index_price"][pairKey]
            let index = try indexValue.double()
            guard index > 0 else { throw .malformed(path: indexValue.path, reason: "must be positive") }
            var perpetualMark: Double?
            var expiries: [Int64: (forward: Double, path: String)] = [:]
            var volatilities: [String: Double] = [:]
            for (instrument, _) in mine where instrument.underlying == underlying {
                let entry = ticker[instrument.name]
                switch instrument.kind {
                case .perpetual:
                    perpetualMark = try entry["mark_price"].double()
                case .future(let expiryMs):
                    expiries[expiryMs] = (try entry["mark_price"].double(), entry["mark_price"].path)
                case .option(let expiryMs, _, _):
                    let forward = try entry["underlying_price"].double()
                    if expiries[expiryMs] == nil { expiries[expiryMs] = (forward, entry["underlying_price"].path) }
                    volatilities[instrument.name] = try entry["mark_iv"].double() / 100
                case .spot:
                    break
                }
            }
            var expiryMarkets: [ExpiryMarket] = []
            for (expiryMs, entry) in expiries.sorted(by: { $0.key < $1.key }) {
                guard entry.forward > 0 else { throw .malformed(path: entry.path, reason: "must be positive") }
                // Options are priced at their own marks (the market's per-instrument vols); the smile
                // only has to be valid.
                expiryMarkets.append(ExpiryMarket(expiryMs: expiryMs, forward: entry.forward,
                                                  smile: SVIParameters(a: 0.25, b: 0, rho: 0, m: 0, sigma: 1, tau: 1)))
            }
            marketList.append(UnderlyingMarket(underlying: underlying, timestampMs: timestampMs, indexPrice: index, expiries: expiryMarkets,
                                               perpetualMark: perpetualMark, markVolatilities: volatilities))
            keys[underlying] = result["aggregated_risk_vectors"]["\(u)_\(currency)"].exists || !linear ? "\(u)_\(currency)" : "\(u)_usd"
        }
        if linear { marketList.append(UnderlyingMarket(underlying: "USDC", timestampMs: timestampMs, indexPrice: 1)) }

        // Positions: futures and perpetuals as face entered at the mark (inverse) or units at the mark (linear).
        var positions: [Position] = []
        var names: [(String, Double)] = []
        let markets = MarketState(marketList)
        for (instrument, size) in mine {
            guard size.isFinite else { throw .malformed(path: "\(result["portfolio"]["position"].path).\(instrument.name)", reason: "not finite") }
            names.append((instrument.name, size))
            switch instrument.kind {
            case .future, .perpetual:
                let mark = try ticker[instrument.name]["mark_price"].double()
                guard mark > 0 else { throw .malformed(path: ticker[instrument.name]["mark_price"].path, reason: "must be positive") }
                let quantity = instrument.settlement == .inverse ? size * mark : size
                positions.append(Position(instrument: instrument.name, quantity: quantity, averageEntryPrice: mark))
            default:
                positions.append(Position(instrument: instrument.name, quantity: size))
            }
        }
        let parameters = RiskParameters(id: "deribit-pme", version: 1, summary: "Deribit pme/simulate \(currency)",
                                        valuationAsset: valuationAsset, riskUnits: units)

        // Expected values.
        var expected: [(String, Double)] = []
        let initialVectors = result["initial_risk_vectors"]
        for (instrument, _) in mine where initialVectors[instrument.name].exists {
            for part in ["standard", "extended"] {
                for (index, entry) in initialVectors[instrument.name][part].array.enumerated() {
                    expected.append(("initial_risk_vectors.\(instrument.name).\(part)[\(index)]", try entry.double()))
                }
            }
        }
        for group in ["aggregated_risk_vectors", "pre_aggregated_risk_vectors"] {
            for key in keys.values.sorted() where result[group][key].exists {
                for part in ["standard", "extended"] {
                    for (index, entry) in result[group][key][part].array.enumerated() {
                        expected.append(("\(group).\(key).\(part)[\(index)]", try entry.double()))
                    }
                }
            }
        }
        let details = block["initial_margin_details"]["risk_matrix_margin_details"]
        for field in ["worst_case", "delta_shock", "roll_shock", "correlation_contingency"] where details[field].exists {
            expected.append(("risk_matrix_margin_details.\(field)", try details[field].double()))
        }
        if block["initial_margin_details"]["risk_matrix_margin"].exists {
            expected.append(("risk_matrix_margin", try block["initial_margin_details"]["risk_matrix_margin"].double()))
        }
        expected.append(("maintenance_margin", try block["maintenance_margin"].double()))
        expected.append(("initial_margin", try block["initial_margin"].double()))
        var bucket: DeribitPMEProfile.WorstCaseBucket?
        let bucketBlock = details["worst_case_bucket"]
        if bucketBlock.exists {
            bucket = .init(bucket: Int(try bucketBlock["bucket"].double()), side: try bucketBlock["side"].string(),
                           source: try bucketBlock["source"].string(), index: Int(try bucketBlock["index"].double()))
        }
        let im = block["initial_margin_details"]
        var catalog = InstrumentCatalog(mine.map(\.0))
        if !linear, catalog[valuationAsset] == nil {
            catalog.insert(Instrument(name: valuationAsset, underlying: valuationAsset, kind: .spot))
        }
        return CurrencyRun(
            currency: currency, parameters: parameters, catalog: catalog, markets: markets,
            account: Account(id: "deribit-pme-\(currency)", version: 1, balances: [:], positions: positions),
            positions: names, vectorKeys: keys,
            spotMargin: try im["spot_margin"].double(default: 0), mmpMargin: try im["mmp_margin"].double(default: 0),
            openOrdersMargin: try im["open_orders_margin"].double(default: 0), bucketsPerSide: bucketsPerSide,
            expected: expected, expectedBucket: bucket)
    }
}
