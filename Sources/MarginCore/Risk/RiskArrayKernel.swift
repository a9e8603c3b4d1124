/// The vectorised Black-76 revaluation behind ``RiskBook``.
///
/// Per option and column it needs one exponential and no logarithm: with `x = ln(F_c/K)` formed as
/// `ln F_c − ln K` (one logarithm per expiry and column, one per option), `d1 = (x + v²/2)/v`,
/// `e^(−d2²/2) = e^(−d1²/2)·F_c/K`, and both normal probabilities come from Cody's rational
/// approximations as numerator/denominator pairs, so the price needs a single division.
enum RiskArrayKernel {
    /// Which volatility an option is revalued at in a column.
    enum VolatilityVariant: Int, CaseIterable {
        case unchanged = 0, up, down, skewLinear, skewAbsolute
    }

    /// One column to compute for every option of an expiry: the shocked forward and its log, the
    /// volatility variant, and the factors converting a linear USD value into valuation units:
    /// `linearScale` = `1/V` and for inverse options `inverseScale` = `S·G / (F_c · valuationPrice · V)`,
    /// with `V` the valuation asset's own shock in the column (`G` in a coin-margined set, else 1).
    struct Column {
        var forward: Double
        var logForward: Double
        var variant: VolatilityVariant
        var linearScale: Double = 1
        var inverseScale: Double
        /// Multiplier of the variant's volatility (1 except in historical scenarios whose source
        /// has implied-volatility history).
        var volatilityScale: Double = 1
    }

    /// Fills every option's row (`stride` doubles per slot): the scenario columns, then current,
    /// basis up and basis down. Columns split into chunks on `parallelism` (each chunk writes its
    /// own columns of every row, so the values do not depend on the split).
    static func fill(rows: UnsafeMutableBufferPointer<Double>, stride: Int, terms: [RiskBook.SlotTerms], volatilities: [Double],
                     groups: [RiskBook.ExpiryGroup], parameters: RiskUnitParameters, indexPrice: Double, valuationPrice: Double,
                     valuationFollowsUnderlying: Bool = false, parallelism: Parallelism = .serial) {
        // Column shocks: the scenarios, then current, basis up, basis down.
        var shocks: [(spot: Double, variant: VolatilityVariant, volatilityScale: Double)] = parameters.scenarios.map { scenario in
            let variant: VolatilityVariant
            switch scenario.volatilityShock {
            case .none: variant = .unchanged
            case .up: variant = .up
            case .down: variant = .down
            case .skewLinear: variant = .skewLinear
            case .skewAbsolute: variant = .skewAbsolute
            }
            // Skew scenarios tilt the smile at the current forwards; their spot shock moves only the
            // delta-one exposures (PMRM_2's skewed revaluation ignores it as well).
            return (scenario.volatilityShock.isSkew ? 1 : scenario.spotShock, variant, scenario.volatilityScale)
        }
        shocks.append((1, .unchanged, 1))
        shocks.append((parameters.basisContingency?.spotUp ?? 1, .unchanged, 1))
        shocks.append((parameters.basisContingency?.spotDown ?? 1, .unchanged, 1))
        let output = DisjointWrites(rows)
        parallelism.forEachChunk(of: shocks.count, minimumChunk: 256) { [shocks] _, range in
            fill(columns: range, rows: output.buffer, stride: stride, shocks: shocks, terms: terms, volatilities: volatilities, groups: groups,
                 parameters: parameters, indexPrice: indexPrice, valuationPrice: valuationPrice, valuationFollowsUnderlying: valuationFollowsUnderlying)
        }
    }

    /// The columns `range` of every row (see ``fill(rows:stride:terms:volatilities:groups:parameters:indexPrice:valuationPrice:valuationFollowsUnderlying:parallelism:)``).
    private static func fill(columns range: Range<Int>, rows: UnsafeMutableBufferPointer<Double>, stride: Int,
                             shocks: [(spot: Double, variant: VolatilityVariant, volatilityScale: Double)], terms: [RiskBook.SlotTerms],
                             volatilities: [Double], groups: [RiskBook.ExpiryGroup], parameters: RiskUnitParameters, indexPrice: Double,
                             valuationPrice: Double, valuationFollowsUnderlying: Bool) {
        let lanes = DoubleLanes.scalarCount
        var columns = [Column](repeating: Column(forward: 0, logForward: 0, variant: .unchanged, inverseScale: 0), count: range.count)
        for group in groups {
            let variable = group.forward - group.forwardFixedPortion
            for index in range {
                let shock = shocks[index]
                let forward = group.forwardFixedPortion + variable * shock.spot
                let valuationShock = valuationFollowsUnderlying ? shock.spot : 1
                columns[index - range.lowerBound] = Column(
                    forward: forward, logForward: CMath.log(forward), variant: shock.variant, linearScale: 1 / valuationShock,
                    inverseScale: indexPrice * shock.spot / (forward * valuationPrice * valuationShock), volatilityScale: shock.volatilityScale
                )
            }
            let rootT = group.timeToExpiry.squareRoot()
            // Theta over the margin period: scenario columns revalue the options `scenarioAgingDays` later.
            let aging = parameters.scenarioAgingDays
            let agedT = max(group.timeToExpiry - aging / 365, 0)
            let agedRootT = aging > 0 ? agedT.squareRoot() : rootT
            let agedDiscount = aging > 0 ? CMath.exp(-group.rate * agedT) : group.discount
            var block = group.slotRange.lowerBound
            while block < group.slotRange.upperBound {
                let count = min(lanes, group.slotRange.upperBound - block)
                var inputs = OptionLanes(), aged = OptionLanes()
                for lane in 0..<lanes {
                    let slot = block + min(lane, count - 1) // pad by repeating the last option
                    inputs.load(lane: lane, terms: terms[slot], volatility: volatilities[slot], group: group, rootT: rootT,
                                discount: group.discount, skew: parameters.skewShock, minimumUp: parameters.volatilityShock.minimumVolatilityUp)
                    if aging > 0 {
                        aged.load(lane: lane, terms: terms[slot], volatility: volatilities[slot], group: group, rootT: agedRootT,
                                  discount: agedDiscount, skew: parameters.skewShock, minimumUp: parameters.volatilityShock.minimumVolatilityUp)
                    }
                }
                let scenarioColumns = parameters.scenarios.count
                columns.withUnsafeBufferPointer { columns in
                    for (offset, columnIndex) in range.enumerated() {
                        let value = price(aging > 0 && columnIndex < scenarioColumns ? aged : inputs, column: columns[offset])
                        for lane in 0..<count {
                            rows[(block + lane) * stride + columnIndex] = value[lane]
                        }
                    }
                }
                block += count
            }
        }
    }

    /// Per-lane constants of up to four options of one expiry.
    struct OptionLanes {
        var logStrike = DoubleLanes.zero
        var inverseStrike = DoubleLanes.zero
        /// ±1: calls +1, puts −1.
        var sign = DoubleLanes.zero
        /// strike × discount × contract size: the factor turning the standardised price into value.
        var scale = DoubleLanes.zero
        /// 1 for inverse options, 0 for linear.
        var inverse = DoubleLanes.zero
        /// Total volatility v = σ√T, v²/2 and 1/v, per volatility variant.
        var unchanged = VariantLanes(), up = VariantLanes(), down = VariantLanes()
        var skewLinear = VariantLanes(), skewAbsolute = VariantLanes()

        @inline(__always)
        func variant(_ variant: VolatilityVariant) -> VariantLanes {
            switch variant {
            case .unchanged: return unchanged
            case .up: return up
            case .down: return down
            case .skewLinear: return skewLinear
            case .skewAbsolute: return skewAbsolute
            }
        }

        /// Loads one option from its layout constants (no instrument, no logarithm unless skewed).
        mutating func load(lane: Int, terms: RiskBook.SlotTerms, volatility sigma: Double, group: RiskBook.ExpiryGroup,
                           rootT: Double, discount: Double, skew: SkewShockRule?, minimumUp: Double) {
            logStrike[lane] = terms.logStrike
            inverseStrike[lane] = terms.inverseStrike
            sign[lane] = terms.sign
            scale[lane] = terms.strike * discount * terms.contractSize
            inverse[lane] = terms.inverse
            unchanged.set(lane: lane, volatility: sigma, rootT: rootT)
            up.set(lane: lane, volatility: max(minimumUp, sigma * group.volatilityUp), rootT: rootT)
            down.set(lane: lane, volatility: sigma * group.volatilityDown, rootT: rootT)
            var linearTilt = 1.0, absoluteTilt = 1.0
            if let skew {
                let moneyness = CMath.log(terms.strike / group.forward)
                linearTilt = skew.multiplier(logMoneyness: moneyness, timeToExpiry: group.timeToExpiry, absolute: false)
                absoluteTilt = skew.multiplier(logMoneyness: moneyness, timeToExpiry: group.timeToExpiry, absolute: true)
            }
            skewLinear.set(lane: lane, volatility: sigma * linearTilt, rootT: rootT)
            skewAbsolute.set(lane: lane, volatility: sigma * absoluteTilt, rootT: rootT)
        }
    }

    /// v = σ√T, v²/2 and 1/v of up to four options for one volatility variant.
    struct VariantLanes {
        var total = DoubleLanes.zero
        var halfSquare = DoubleLanes.zero
        var reciprocal = DoubleLanes.zero

        mutating func set(lane: Int, volatility: Double, rootT: Double) {
            // A zero total volatility (expired, or a shock to zero) becomes a vanishing one, which
            // gives the intrinsic value without a special case.
            let v = max(volatility * rootT, 1e-150)
            total[lane] = v
            halfSquare[lane] = 0.5 * v * v
            reciprocal[lane] = 1 / v
        }

        /// The same lanes at `factor` × the volatility (factor > 0).
        @inline(__always)
        mutating func scale(by factor: Double) {
            let f = DoubleLanes(repeating: factor)
            total = total * f
            halfSquare = halfSquare * (f * f)
            reciprocal = reciprocal / f
        }
    }

    /// Value per contract (valuation units) of the lanes' options in one column.
    @inline(__always)
    static func price(_ o: OptionLanes, column: Column) -> DoubleLanes {
        var vol = o.variant(column.variant)
        if column.volatilityScale != 1 { vol.scale(by: column.volatilityScale) }
        let v = vol.total
        let logMoneyness = DoubleLanes(repeating: column.logForward) - o.logStrike
        let ratio = DoubleLanes(repeating: column.forward) * o.inverseStrike
        let d1 = VectorMath.clamp((logMoneyness + vol.halfSquare) * vol.reciprocal, -40, 40)
        let d2 = VectorMath.clamp(d1 - v, -40, 40)
        let y1 = VectorMath.magnitude(d1), y2 = VectorMath.magnitude(d2)
        let square = y1 * y1
        let squareError = (-square).addingProduct(y1, y1)
        let gaussian1 = VectorMath.exp(square * -0.5, tail: squareError * -0.5)
        let gaussian2 = gaussian1 * ratio
        let (t1, u1) = VectorMath.normalTail(y1, gaussian: gaussian1)
        let (t2, u2) = VectorMath.normalTail(y2, gaussian: gaussian2)
        // Φ(sign·d) = t/u when sign·d < 0, else (u − t)/u.
        var a1 = u1 - t1
        a1.replace(with: t1, where: o.sign * d1 .< 0)
        var a2 = u2 - t2
        a2.replace(with: t2, where: o.sign * d2 .< 0)
        let numerator: DoubleLanes = ratio * a1 * u2 - a2 * u1
        let denominator: DoubleLanes = u1 * u2
        let standardised: DoubleLanes = o.sign * numerator / denominator
        let clampedPrice = VectorMath.maximum(standardised, DoubleLanes.zero)
        var conversion = DoubleLanes(repeating: column.linearScale)
        conversion.replace(with: DoubleLanes(repeating: column.inverseScale), where: o.inverse .> 0)
        return clampedPrice * o.scale * conversion
    }
}
