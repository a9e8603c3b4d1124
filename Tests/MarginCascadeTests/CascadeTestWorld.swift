import MarginCore
import MarginDemo
import MarginEngineCore
@testable import MarginCascade

/// A small world on the demo market: a single −10 % scenario (MM = IM = the loss), no add-ons.
enum CascadeTestWorld {
    static func parameters() -> RiskParameters {
        let unit = RiskUnitParameters(scenarios: [Scenario(spotShock: 0.9, volatilityShock: .none)],
                                      volatilityShock: VolatilityShockRule(rangeUp: 0, rangeDown: 0, shortTermPower: 0, longTermPower: 0),
                                      maintenanceFactor: 1, initialFactor: 1)
        return RiskParameters(id: "cascade-test", version: 1, valuationAsset: "USDC", riskUnits: ["BTC": unit])
    }

    static func make(accounts: [Account], fund: Double = 0) throws -> CascadeWorld {
        try CascadeWorld(market: try DemoMarket(), accounts: accounts, seed: 0, parameters: parameters(),
                         liquidation: LiquidationSettings(), insuranceFund: fund)
    }

    /// No move; displayed depth at `depth` of the demo's; a 600 s book half-life.
    static func flatScenario(depth: Double) -> CascadeScenario {
        CascadeScenario(name: "flat", description: "no move", stepSeconds: 60, bookHalfLifeSeconds: 600, path: [
            .init(seconds: 0, indexMovePercent: 0, volatilityMultiplier: 1, depthMultiplier: depth),
            .init(seconds: 60, indexMovePercent: 0, volatilityMultiplier: 1, depthMultiplier: depth),
        ])
    }
}
