import Foundation
import MarginCore

/// One golden portfolio case of Derive's PMRM_2 (derivexyz/v2-core,
/// `test/risk-managers/unit-tests/PMRM_2/portfolio_cases/`), translated into the engine's general
/// model: an instrument catalog, market snapshots, an account and a risk-parameter set.
///
/// Translation (the ``DerivePMRM2Profile`` documents the methodology side):
/// - the case's underlying becomes the risk unit `UNDERLYING`, priced at `SpotPrice` with
///   `SpotConfidence`; its perpetual is marked at `PerpPrice` with `PerpConfidence`;
/// - the valuation asset is `USDC` priced at `StablePrice`; `Cash` is its balance;
/// - each option feed becomes a listed expiry: `Forward`, `Rate` and the 7-element `SVIparam`
///   (a, b, ρ, m, σ, reference forward, τ) with its confidences; an expiry `Expiry` seconds away
///   sits `Expiry × 1000` ms after ``timeBaseMs``;
/// - options are linear (USD-settled) with contract size 1; the perpetual position is linear with
///   an entry price that reproduces `UnrealisedPerpPNL` and carries `UnrealisedFunding`;
/// - each collateral is a spot asset with its own market (`Price`, and confidence
///   `min(Confidence, SpotConfidence)` as PMRM_2 combines them); risk-cancelling collateral moves
///   with the underlying's scenarios.
public struct DerivePMRM2Case: Sendable {
    public static let underlying = "UNDERLYING"
    public static let valuationAsset = "USDC"
    public static let perpetualName = "UNDERLYING-PERP"
    /// The case's "now" (Unix ms): expiries sit `Expiry` seconds after it (an expired option, 0 s, stays valid).
    public static let timeBaseMs: Int64 = 1_700_000_000_000

    public let name: String
    public let parameters: RiskParameters
    public let catalog: InstrumentCatalog
    public let markets: MarketState
    public let account: Account
    /// Expected values by field name (scenario PnLs as `reg_losses[i]`, `tail_losses[i]`,
    /// `skew_losses[i]`), in the order they are compared.
    public let expected: [(field: String, value: Double)]
    /// Number of option expiries, positions, and the perp quantity (for reporting).

    public init(name: String, data: Data) throws(ConformanceError) {
        self.name = name
        let root = try JSONValue(data: data, path: name)
        let scenario = root["Scenario"], p = root["Parameters"], result = root["Result"]

        // Parameters.
        var scenarios: [Scenario] = []
        var regularCount = 0
        for entry in p["Scenarios"].array {
            let direction = try entry["VolShockDirection"].string()
            let shock: Scenario.VolatilityShock
            switch direction.lowercased() {
            case "up": shock = .up
            case "down": shock = .down
            case "none": shock = .none
            case "linear": shock = .skewLinear
            case "abs": shock = .skewAbsolute
            default: throw .malformed(path: entry["VolShockDirection"].path, reason: "unknown direction \(direction)")
            }
            // PMRM_2 lists its regular grid first; the other non-skew scenarios are its tails.
            let kind: Scenario.Kind = shock.isSkew ? .skew : (regularCount < DerivePMRM2Profile.regularScenarioCount ? .regular : .tail)
            if kind == .regular { regularCount += 1 }
            scenarios.append(Scenario(spotShock: try entry["SpotShock"].double(), volatilityShock: shock,
                                      dampening: try entry["DampeningFactor"].double(default: 1), kind: kind))
        }
        let vol = p["VolShock"], skew = p["SkewShock"], margin = p["Margin"], basis = p["BasisContingency"], other = p["OtherContingency"]
        let linearCaps = try DerivePMRM2Profile.linearSkewCapKeys(scenarios: scenarios, path: p["Scenarios"].path)
        let unit = RiskUnitParameters(
            scenarios: scenarios,
            volatilityShock: VolatilityShockRule(
                rangeUp: try vol["VOLRANGEUP"].double(), rangeDown: try vol["VOLRANGEDOWN"].double(),
                shortTermPower: try vol["SHORTTERMPOWER"].double(), longTermPower: try vol["LONGTERMPOWER"].double(),
                dteFloorDays: try vol["DTE_FLOOR"].double(), minimumVolatilityUp: try vol["MIN_VOL_EVAL_SHOCKED"].double()),
            skewShock: SkewShockRule(
                linearBaseCap: try skew[linearCaps.baseCap].double(), linearCBase: try skew[linearCaps.cBase].double(),
                absoluteBaseCap: try skew["ABS_SCALE_CAP"].double(), absoluteCBase: try skew["ABS_CBASE"].double(),
                minKStar: try skew["MIN_K_STAR"].double(), widthScale: try skew["MIN_WIDTH_SCALE"].double(),
                volParamStatic: try skew["VOL_PARAM_STATIC"].double(), volParamScale: try skew["VOL_PARAM_SCALE"].double()),
            smile: DerivePMRM2Profile.smileEvaluation,
            staticDiscount: StaticDiscountRule(
                positiveBase: try margin["BASE_STATIC_DISCOUNT"].double(),
                positiveRateMultiplier: try margin["LONG_RATE_MULTSCALE"].double(),
                positiveRateAdd: try margin["LONG_RATE_ADDSCALE"].double(),
                negativeBase: try margin["BASE_STATIC_DISCOUNT_NEG"].double(),
                negativeRateMultiplier: try margin["SHORT_RATE_MULTSCALE"].double(),
                negativeRateAdd: try margin["SHORT_RATE_ADDSCALE"].double()),
            basisContingency: BasisContingencyRule(
                spotUp: try basis["SCENARIO_SPOT_UP"].double(), spotDown: try basis["SCENARIO_SPOT_DOWN"].double(),
                addFactor: try basis["BASIS_CONT_ADD_FACTOR"].double(), multFactor: try basis["BASIS_CONT_MULT_FACTOR"].double()),
            shortOptionContingency: PercentContingency(
                maintenance: try other["MM_OPTION_PERCENT"].double(),
                initial: try other["MM_OPTION_PERCENT"].double() + other["IM_OPTION_PERCENT"].double()),
            deltaOneContingency: PercentContingency(
                maintenance: try other["MM_PERP_PERCENT"].double(),
                initial: try other["MM_PERP_PERCENT"].double() + other["IM_PERP_PERCENT"].double()),
            maintenanceFactor: try margin["MM_LOSS_FACTOR"].double(), initialFactor: try margin["IM_LOSS_FACTOR"].double()
        )

        // Market: underlying, valuation asset, collaterals.
        let spot = try scenario["SpotPrice"].double()
        let spotConfidence = try scenario["SpotConfidence"].double(default: 1)
        // A case without perpetuals may leave PerpPrice at 0: the engine refuses zero prices, so the
        // perpetual is then marked at the index (it carries no position).
        let quotedPerpPrice = try scenario["PerpPrice"].double(default: 0)
        let perpPrice = quotedPerpPrice > 0 ? quotedPerpPrice : spot
        let perpConfidence = try scenario["PerpConfidence"].double(default: 1)
        var expiries: [ExpiryMarket] = []
        for feed in scenario["OptionFeeds"].array {
            let seconds = try feed["FeedExpiry"].double()
            let forward = try feed["Forward"].double()
            let svi = feed["SVIparam"]
            // Within 30 minutes of expiry part of the forward is already fixed by settlement averaging.
            let fixed = seconds < DerivePMRM2Profile.settlementWindowSeconds
                ? forward * (DerivePMRM2Profile.settlementWindowSeconds - seconds) / DerivePMRM2Profile.settlementWindowSeconds : 0
            expiries.append(ExpiryMarket(
                expiryMs: Self.timeBaseMs + Int64((seconds * 1000).rounded()), forward: forward, forwardFixedPortion: fixed,
                forwardConfidence: try feed["ForwardConfidence"].double(default: 1),
                rate: try feed["Rate"].double(default: 0), rateConfidence: try feed["RateConfidence"].double(default: 1),
                smile: SVIParameters(a: try svi[0].double(), b: try svi[1].double(), rho: try svi[2].double(),
                                     m: try svi[3].double(), sigma: try svi[4].double(),
                                     tau: max(try svi[6].double(), 1e-18), referenceForward: try svi[5].double()),
                volatilityConfidence: try feed["OptionVolConfidences"].double(default: 1)))
        }
        var markets = MarketState([
            UnderlyingMarket(underlying: Self.underlying, timestampMs: Self.timeBaseMs, indexPrice: spot, indexConfidence: spotConfidence,
                             expiries: expiries, perpetualMark: perpPrice, perpetualConfidence: perpConfidence),
            UnderlyingMarket(underlying: Self.valuationAsset, timestampMs: Self.timeBaseMs, indexPrice: try scenario["StablePrice"].double(default: 1),
                             indexConfidence: try scenario["StableConfidence"].double(default: 1)),
        ])

        // Instruments and account.
        var instruments: [Instrument] = [Instrument(name: Self.perpetualName, underlying: Self.underlying, kind: .perpetual)]
        var positions: [Position] = []
        var balances: [String: Double] = [Self.valuationAsset: try scenario["Cash"].double(default: 0)]
        var collateral: [String: CollateralParameters] = [:]
        let perpQuantity = try scenario["NumPerps"].double(default: 0)
        if perpQuantity != 0 {
            let pnl = try scenario["UnrealisedPerpPNL"].double(default: 0)
            positions.append(Position(instrument: Self.perpetualName, quantity: perpQuantity,
                                      averageEntryPrice: perpPrice - pnl / perpQuantity,
                                      unsettledFunding: try scenario["UnrealisedFunding"].double(default: 0)))
        }
        var optionQuantities: [String: Double] = [:]
        var optionOrder: [String] = []
        for (index, option) in scenario["Options"].array.enumerated() {
            let seconds = try option["Expiry"].double()
            let strike = try option["Strike"].double()
            let right: OptionRight = try option["IsCall"].bool() ? .call : .put
            let name = "UNDERLYING-\(Int64(seconds))-\(strike)-\(right == .call ? "C" : "P")"
            _ = index
            if optionQuantities[name] == nil {
                optionOrder.append(name)
                instruments.append(Instrument(name: name, underlying: Self.underlying,
                                              kind: .option(expiryMs: Self.timeBaseMs + Int64((seconds * 1000).rounded()), strike: strike, right: right)))
            }
            optionQuantities[name, default: 0] += try option["Amount"].double()
        }
        for name in optionOrder { positions.append(Position(instrument: name, quantity: optionQuantities[name]!)) }
        for (index, entry) in scenario["Collaterals"].array.enumerated() {
            var name = try entry["Name"].string()
            if balances[name] != nil || name == Self.underlying { name += "#\(index)" }
            let riskCancelling = try entry["IsRiskCancelling"].bool()
            let maintenanceHaircut = try entry["MMHaircut"].double(default: 0)
            instruments.append(Instrument(name: name, underlying: riskCancelling ? Self.underlying : name, kind: .spot))
            markets[name] = UnderlyingMarket(
                underlying: name, timestampMs: Self.timeBaseMs, indexPrice: try entry["Price"].double(),
                indexConfidence: min(try entry["Confidence"].double(default: 1), spotConfidence))
            balances[name] = try entry["Amount"].double()
            collateral[name] = CollateralParameters(
                maintenanceHaircut: maintenanceHaircut,
                initialHaircut: maintenanceHaircut + (try entry["IMHaircut"].double(default: 0)),
                riskLinked: riskCancelling)
        }
        collateral[Self.valuationAsset] = CollateralParameters.none

        self.parameters = RiskParameters(
            id: "derive-pmrm2", version: 1, summary: "Derive PMRM_2 golden case \(name)", valuationAsset: Self.valuationAsset,
            riskUnits: [Self.underlying: unit], collateral: collateral,
            confidenceContingency: ConfidenceContingencyRule(threshold: try other["CONF_THRESHOLD"].double(),
                                                             margin: try other["CONF_MARGIN"].double()),
            stablecoinPeg: StablecoinPegRule(threshold: try other["PEG_LOSS_THRESHOLD"].double(),
                                             factor: try other["PEG_LOSS_FACTOR"].double()))
        self.catalog = InstrumentCatalog(instruments)
        self.markets = markets
        self.account = Account(id: name, version: 1, balances: balances, positions: positions)

        // Expected values, in comparison order.
        var expected: [(String, Double)] = []
        for (group, valueIndex) in [("reg_losses", 2), ("tail_losses", 2), ("skew_losses", 1)] {
            for (index, entry) in result[group].array.enumerated() {
                expected.append(("\(group)[\(index)]", try entry[valueIndex].double()))
            }
        }
        for field in DerivePMRM2Profile.comparedFields where result[field].exists {
            expected.append((field, try result[field].double()))
        }
        self.expected = expected
    }
}
