/// A complete, versioned risk-parameter set (data, not code).
///
/// All amounts the engine produces are in units of `valuationAsset` (e.g. USDC); its USD price
/// comes from that asset's market snapshot when one exists, else 1.
public struct RiskParameters: Sendable, Hashable {
    public static let wildcard = "*"

    public var id: String
    public var version: Int64
    public var summary: String
    public var valuationAsset: String
    /// Per-underlying parameters. An account exposed through derivatives to an underlying that has
    /// no entry cannot be margined (``MarginError/missingParameters(underlying:)``).
    public var riskUnits: [String: RiskUnitParameters]
    /// Per-asset haircuts; the key `*` applies to assets without their own entry.
    public var collateral: [String: CollateralParameters]
    public var confidenceContingency: ConfidenceContingencyRule?
    public var stablecoinPeg: StablecoinPegRule?
    /// Decorrelation factor `d` in [0, 1] of the grid across underlyings: an account's grid loss is
    /// `d·Σ_u worst_u + (1 − d)·worst_s Σ_u PnL_u(s)`. 1 (the default) margins each underlying on
    /// its own worst scenario, as Deribit and Derive do.
    public var decorrelation: Double
    /// The joint scenario set of the dynamic risk model (FHS or Monte Carlo), when calibrated.
    public var historicalSimulation: HistoricalScenarioSet?
    /// Where a calibrated set came from (data range, settings, per-underlying figures): text for people.
    public var provenance: [String: String]

    public init(id: String, version: Int64, summary: String = "", valuationAsset: String,
                riskUnits: [String: RiskUnitParameters], collateral: [String: CollateralParameters] = [:],
                confidenceContingency: ConfidenceContingencyRule? = nil, stablecoinPeg: StablecoinPegRule? = nil,
                decorrelation: Double = 1, historicalSimulation: HistoricalScenarioSet? = nil, provenance: [String: String] = [:]) {
        self.id = id
        self.version = version
        self.summary = summary
        self.valuationAsset = valuationAsset
        self.riskUnits = riskUnits
        self.collateral = collateral
        self.confidenceContingency = confidenceContingency
        self.stablecoinPeg = stablecoinPeg
        self.decorrelation = decorrelation
        self.historicalSimulation = historicalSimulation
        self.provenance = provenance
    }

    public func riskUnit(for underlying: String) -> RiskUnitParameters? {
        riskUnits[underlying]
    }

    /// The unit's parameters as its risk book sees them: the grid, then the joint scenario set's
    /// columns for this underlying (``HistoricalScenarioSet/bookScenarios(for:)``) when there is one.
    public func bookParameters(for underlying: String) -> RiskUnitParameters? {
        guard var unit = riskUnits[underlying] else { return nil }
        if let set = historicalSimulation { unit.scenarios += set.bookScenarios(for: underlying) }
        return unit
    }

    public func collateralParameters(for asset: String) -> CollateralParameters {
        collateral[asset] ?? collateral[Self.wildcard] ?? .none
    }

    /// Refuses sets that would produce meaningless margins: empty grids, non-positive shocks,
    /// non-finite numbers, skew scenarios without a skew rule, haircuts outside [0, 1].
    public func validate() throws(MarginError) {
        guard !id.isEmpty else { throw .invalidInput(field: "params.id", reason: "must not be empty") }
        guard !valuationAsset.isEmpty else { throw .invalidInput(field: "params.valuation_asset", reason: "must not be empty") }
        guard !riskUnits.isEmpty else { throw .invalidInput(field: "params.risk_units", reason: "must define at least one underlying") }
        guard decorrelation.isFinite, decorrelation >= 0, decorrelation <= 1 else {
            throw .invalidInput(field: "params.decorrelation", reason: "must lie in [0, 1], got \(decorrelation)")
        }
        try historicalSimulation?.validate()
        for (underlying, unit) in riskUnits {
            let field = "params.risk_units[\(underlying)]"
            guard !unit.scenarios.isEmpty else { throw .invalidInput(field: "\(field).scenarios", reason: "must not be empty") }
            for (index, scenario) in unit.scenarios.enumerated() {
                let f = "\(field).scenarios[\(index)]"
                guard scenario.kind != .historical else { throw .invalidInput(field: "\(f).kind", reason: "historical scenarios come from historical_simulation, not the grid") }
                _ = try scenario.spotShock.requirePositive("\(f).spot_shock")
                _ = try scenario.dampening.requireFinite("\(f).dampening")
                guard scenario.dampening >= 0 else { throw .invalidInput(field: "\(f).dampening", reason: "must be ≥ 0") }
                if scenario.volatilityShock.isSkew {
                    guard unit.skewShock != nil else { throw .invalidInput(field: f, reason: "skew scenario without a skew_shock rule") }
                }
            }
            let v = unit.volatilityShock
            for (name, value) in [("range_up", v.rangeUp), ("range_down", v.rangeDown), ("short_term_power", v.shortTermPower),
                                  ("long_term_power", v.longTermPower), ("dte_floor_days", v.dteFloorDays),
                                  ("minimum_volatility_up", v.minimumVolatilityUp), ("reference_days", v.referenceDays),
                                  ("term_switch_days", v.termSwitchDays)] {
                _ = try value.requireFinite("\(field).volatility_shock.\(name)")
                guard value >= 0 else { throw .invalidInput(field: "\(field).volatility_shock.\(name)", reason: "must be ≥ 0") }
            }
            _ = try unit.maintenanceFactor.requirePositive("\(field).maintenance_factor")
            _ = try unit.initialFactor.requirePositive("\(field).initial_factor")
            if let basis = unit.basisContingency {
                _ = try basis.spotUp.requirePositive("\(field).basis_contingency.spot_up")
                _ = try basis.spotDown.requirePositive("\(field).basis_contingency.spot_down")
            }
            try unit.liquidityCost?.validate(field: "\(field).liquidity_cost")
            try unit.liquidityAddOn?.validate(field: "\(field).liquidity_add_on")
            try unit.concentrationAddOn?.validate(field: "\(field).concentration_add_on")
            try unit.validateRiskMatrixRules(field: field)
        }
        for (asset, haircut) in collateral {
            for (name, value) in [("maintenance_haircut", haircut.maintenanceHaircut), ("initial_haircut", haircut.initialHaircut)] {
                guard value.isFinite, value >= 0, value <= 1 else {
                    throw .invalidInput(field: "params.collateral[\(asset)].\(name)", reason: "must lie in [0, 1], got \(value)")
                }
            }
        }
    }
}
