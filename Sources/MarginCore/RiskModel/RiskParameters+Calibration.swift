extension RiskParameters {
    /// This (base) parameter set with a calibration applied:
    /// - each calibrated underlying's regular grid is rescaled so that its edges are the calibrated
    ///   range `q` (a quantile of |log return|) in simple terms: the lowest spot shock becomes `e^(−q)`,
    ///   the highest `e^q`, the points between them in proportion on each side
    ///   (`1 − (1 − s)·(1 − e^(−q))/down` below 1, `1 + (s − 1)·(e^q − 1)/up` above, with `down` and
    ///   `up` the base's edges); tail and skew scenarios and the volatility shocks stay as the base has
    ///   them. An underlying the base lacks takes the first base unit (by name) as its template, which
    ///   the provenance records;
    /// - the joint scenario set and the decorrelation factor come from the calibration;
    /// - the provenance records the data range, the settings and each underlying's figures, and is
    ///   what the next calibration reads its APC buffer and phase-in state from
    ///   (``RiskModelCalibrator/State/fromProvenance(_:)``).
    public func applyingCalibration(_ result: RiskModelCalibrator.Result, settings: RiskModelSettings,
                                    id: String, version: Int64) throws(MarginError) -> RiskParameters {
        guard let template = riskUnits.keys.sorted().first.flatMap({ riskUnits[$0] }) else {
            throw .invalidInput(field: "base.risk_units", reason: "the base parameter set has no underlying")
        }
        var calibrated = self
        calibrated.id = id
        calibrated.version = version
        var provenance: [String: String] = [
            "calibration.from": UTCDay.format(result.fromDay),
            "calibration.to": UTCDay.format(result.toDay),
            "calibration.base": "\(self.id) v\(self.version)",
            "calibration.source": result.scenarios.source.rawValue,
            "calibration.scenarios": String(result.scenarios.scenarioCount),
            "calibration.lambda": String(settings.lambda),
            "calibration.horizon_days": String(settings.horizonDays),
            "calibration.confidence": String(settings.confidence),
            "calibration.apc": settings.apc.label,
            "calibration.max_step": String(settings.maxStep),
            "calibration.decorrelation": String(settings.decorrelation),
            "calibration.volatility_model": settings.volatilityModel.rawValue,
            "calibration.max_revolatilisation": settings.maxRevolatilisation.map { String($0) } ?? "none",
            "calibration.joint_history": "\(UTCDay.format(result.fromDay))..\(UTCDay.format(result.toDay)) (common days)",
        ]
        var phased: [String] = []
        for (underlying, figures) in result.underlyings.sorted(by: { $0.key < $1.key }) {
            var unit = riskUnits[underlying] ?? template
            if riskUnits[underlying] == nil { provenance["calibration.\(underlying).template"] = riskUnits.keys.sorted().first! }
            let edges = unit.regularRange
            let baseDown = 1 - edges.lowest, baseUp = edges.highest - 1
            let down = 1 - CMath.exp(-figures.priceRange), up = CMath.exp(figures.priceRange) - 1
            unit.scenarios = unit.scenarios.map { scenario in
                guard scenario.kind == .regular else { return scenario }
                var scaled = scenario
                if scenario.spotShock < 1, baseDown > 0 { scaled.spotShock = 1 - (1 - scenario.spotShock) * down / baseDown }
                if scenario.spotShock > 1, baseUp > 0 { scaled.spotShock = 1 + (scenario.spotShock - 1) * up / baseUp }
                return scaled
            }
            calibrated.riskUnits[underlying] = unit
            let annual = 365.0.squareRoot()
            let prefix = "calibration.\(underlying)."
            provenance[prefix + "forecast_vol_annual"] = String(figures.forecastVolatility * annual)
            provenance[prefix + "stress_vol_annual"] = String(figures.stressVolatility * annual)
            provenance[prefix + "floor_vol_annual"] = String(figures.floorVolatility * annual)
            provenance[prefix + "applied_volatility"] = String(figures.appliedVolatility)
            provenance[prefix + "price_range"] = String(figures.priceRange)
            provenance[prefix + "target_price_range"] = String(figures.targetPriceRange)
            provenance[prefix + "price_range_without_apc"] = String(figures.priceRangeWithoutAPC)
            provenance[prefix + "apc_add_on"] = String(figures.apcAddOn)
            provenance[prefix + "buffer_remaining"] = String(figures.bufferRemaining)
            provenance[prefix + "price_range_simple"] = "-\(formatShort(100 * (1 - CMath.exp(-figures.priceRange))))% / +\(formatShort(100 * (CMath.exp(figures.priceRange) - 1)))%"
            if let history = result.histories[underlying] {
                provenance[prefix + "history"] = "\(UTCDay.format(history.lowerBound))..\(UTCDay.format(history.upperBound))"
            }
            if let fit = result.fits[underlying] {
                provenance[prefix + "volatility_fit"] = fit.note.map { "\(fit.summary) (\($0))" } ?? fit.summary
            }
            if figures.phasedIn { phased.append(underlying) }
        }
        if !phased.isEmpty {
            provenance["calibration.phased_in"] = "\(phased.joined(separator: ",")): moved by at most \(settings.maxStep) a day towards the target; the rest follows on later days"
        }
        calibrated.decorrelation = settings.decorrelation
        calibrated.historicalSimulation = result.scenarios
        calibrated.provenance = provenance
        calibrated.summary = "Calibrated \(UTCDay.format(result.fromDay))..\(UTCDay.format(result.toDay)) on \(self.id): "
            + result.underlyings.keys.sorted().map { u in
                let q = result.underlyings[u]!.priceRange
                return "\(u) -\(formatShort(100 * (1 - CMath.exp(-q))))%/+\(formatShort(100 * (CMath.exp(q) - 1)))%"
            }.joined(separator: ", ")
            + "; \(result.scenarios.source.rawValue) \(result.scenarios.measure.rawValue) \(formatShort(settings.confidence * 100))% over \(settings.horizonDays) days"
            + " (\(result.scenarios.scenarioCount) scenarios), APC \(settings.apc.label), d = \(formatShort(settings.decorrelation))."
        try calibrated.validate()
        return calibrated
    }
}

extension RiskModelCalibrator.State {
    /// Yesterday's state per underlying, read back from a calibrated set's provenance (empty when
    /// the set was not calibrated).
    public static func fromProvenance(_ provenance: [String: String]) -> [String: RiskModelCalibrator.State] {
        guard let dayText = provenance["calibration.to"], let day = UTCDay.parse(dayText) else { return [:] }
        var result: [String: RiskModelCalibrator.State] = [:]
        for (key, value) in provenance where key.hasPrefix("calibration.") && key.hasSuffix(".applied_volatility") {
            let underlying = String(key.dropFirst("calibration.".count).dropLast(".applied_volatility".count))
            guard let volatility = Double(value), volatility > 0,
                  let range = provenance["calibration.\(underlying).price_range"].flatMap(Double.init), range > 0 else { continue }
            result[underlying] = .init(day: day, appliedVolatility: volatility, priceRange: range)
        }
        return result
    }
}
