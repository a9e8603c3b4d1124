import MarginCore

extension LiquidationPlan {
    /// The instruction that publishes this plan. `deadlineMs` 0: no deadline (a `bankrupt`
    /// instruction without legs has nothing to execute); `supersedes`: the live instruction this
    /// one voids, or empty.
    public func instruction(id: String, accountID: String, accountVersion: UInt64, round: UInt32, parameterSetVersion: Int64,
                            deadlineMs: Int64, supersedes: String) -> Margin_V1_LiquidationInstruction {
        var message = Margin_V1_LiquidationInstruction.identified(id: id, accountID: accountID, accountVersion: accountVersion, round: round,
                                                                  parameterSetVersion: parameterSetVersion)
        message.severity = severity
        message.reason = reason == .bankrupt ? .bankrupt : .maintenanceBreach
        message.equity = equityBefore
        message.maintenanceRequirement = maintenanceBefore
        message.initialRequirement = initialBefore
        message.bindingScenario = bindingScenario
        message.legs = legs.map(\.proto)
        message.expectedEquityAfter = expectedEquityAfter
        message.expectedMaintenanceAfter = expectedMaintenanceAfter
        message.estimatedDeficit = estimatedDeficit
        message.deadlineMs = deadlineMs
        message.supersedes = supersedes
        message.fullCloseOut = fullCloseOut
        return message
    }
}

extension LiquidationLegPlan {
    public var proto: Margin_V1_LiquidationLeg {
        var leg = Margin_V1_LiquidationLeg()
        leg.instrument = instrument
        leg.side = side == .buy ? .buy : .sell
        leg.quantity = quantity
        leg.limitPrice = limitPrice
        leg.expectedCost = expectedCost
        return leg
    }
}

extension Margin_V1_LiquidationInstruction {
    /// The cancel of an outstanding instruction `id` (the account recovered).
    public static func cancel(id: String, accountID: String, accountVersion: UInt64, round: UInt32,
                              parameterSetVersion: Int64) -> Margin_V1_LiquidationInstruction {
        var cancel = identified(id: id, accountID: accountID, accountVersion: accountVersion, round: round, parameterSetVersion: parameterSetVersion)
        cancel.cancel = true
        return cancel
    }

    /// The fields every instruction and cancel carries.
    static func identified(id: String, accountID: String, accountVersion: UInt64, round: UInt32,
                           parameterSetVersion: Int64) -> Margin_V1_LiquidationInstruction {
        var message = Margin_V1_LiquidationInstruction()
        message.id = id
        message.accountID = accountID
        message.accountVersion = accountVersion
        message.planRound = round
        message.parameterSetVersion = parameterSetVersion
        return message
    }
}
