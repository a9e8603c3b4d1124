import Logging
import MarginCore

extension MarginEngine {
    /// An account that cannot be margined: counted by reason, logged, and published once per
    /// version and reason as a result with health `error` (never dropped silently).
    func recordError(_ key: AccountKey, _ error: MarginError, now: Int64) {
        guard let entry = accounts.update(key, { entry -> AccountEntry in
            entry.effectiveHealth = .error
            entry.summary = nil
            return entry
        }) else { return }
        liquidation.observe(key, account: nil, health: .error, summary: .unavailable)
        guard accounts[key.partition]?.isServing == true else { return }
        // Unchanged since it was published (or queued): nothing to build.
        let result = errorResult(entry.account, error)
        if published[key]?.resultID == result.id || batch.pendingResults[key]?.resultID == result.id { return }
        metrics.accountError(reason: error.code)
        logger.warning("account cannot be margined", metadata: ["account": "\(key.id)", "version": "\(entry.account.version)",
                                                               "reason": "\(error.code)", "error": "\(error.description)"])
        batch.outputs.append(.result(accountID: key.id, result))
        batch.pendingResults[key] = PublishedResult(resultID: result.id, accountVersion: entry.account.version, health: .error,
                                                    maintenance: 0, initial: 0)
    }

    /// The result of an account that cannot be margined, under an id that names the account
    /// version, the parameter set and the error.
    func errorResult(_ account: Account, _ error: MarginError) -> ResultOutput {
        Self.errorResult(account, error, parameters: parameters, paramsID: settings.paramsID)
    }

    /// ``errorResult(_:_:)`` under the active `parameters` (nil: none yet, named by `paramsID`).
    static func errorResult(_ account: Account, _ error: MarginError, parameters: RiskParameters?, paramsID: String) -> ResultOutput {
        let set = ParameterSetIdentity(id: parameters?.id ?? paramsID, version: parameters?.version ?? 0,
                                       valuationAsset: parameters?.valuationAsset ?? "")
        let id = DeterministicID.make("res", [account.id, String(account.version), set.id, String(set.version), "error", error.code,
                                              error.description])
        return .error(id: id, account: account, parameterSet: set, error: error)
    }
}
