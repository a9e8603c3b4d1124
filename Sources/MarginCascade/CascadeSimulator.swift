import Dispatch
import MarginCore
import Synchronization

/// `margin-engine cascade`: runs a scenario under each policy on the same accounts, seed and
/// exogenous path, and compares them. The policies' runs are independent and run concurrently;
/// each is deterministic, so the result does not depend on their interleaving.
public enum CascadeSimulator {
    public static func run(world: CascadeWorld, scenario: CascadeScenario,
                           policies: [CascadePolicy] = CascadePolicy.allCases) throws -> CascadeResult {
        try scenario.validate()
        let outcomes = Mutex<[CascadePolicy: Result<(CascadePolicyResult, Set<Int>), any Error>]>([:])
        DispatchQueue.concurrentPerform(iterations: policies.count) { index in
            let policy = policies[index]
            var run = CascadeRun(world: world, scenario: scenario, policy: policy)
            let outcome = Result { () throws -> (CascadePolicyResult, Set<Int>) in (try run.run(), run.tally.liquidated) }
            outcomes.withLock { $0[policy] = outcome }
        }
        var results: [CascadePolicy: CascadePolicyResult] = [:]
        var liquidated: [CascadePolicy: Set<Int>] = [:]
        for policy in policies {
            guard let outcome = outcomes.withLock({ $0[policy] }) else { continue }
            let (result, accounts) = try outcome.get()
            results[policy] = result
            liquidated[policy] = accounts
        }
        for policy in policies {
            guard let here = liquidated[policy], let there = liquidated[policy.comparedWith] else { continue }
            results[policy]?.liquidatedHereSurvivedThere = here.subtracting(there).count
            results[policy]?.survivedHereLiquidatedThere = there.subtracting(here).count
        }
        return CascadeResult(scenario: scenario.name, scenarioDescription: scenario.description, seed: world.seed,
                             accounts: world.accounts.count, insuranceFund: world.insuranceFund, stepSeconds: scenario.stepSeconds,
                             bookHalfLifeSeconds: scenario.bookHalfLifeSeconds,
                             policies: Dictionary(uniqueKeysWithValues: results.map { ($0.key.rawValue, $0.value) }))
    }
}
