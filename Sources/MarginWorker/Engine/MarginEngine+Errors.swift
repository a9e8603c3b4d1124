import Logging
import MarginCore
import MarginSchema

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
        let id = errorResultID(entry.account, error)
        if entry.published?.resultID == id || batch.pendingResults[key]?.resultID == id { return }
        let result = errorResult(entry.account, error)
        metrics.accountError(reason: error.code)
        logger.warning("account cannot be margined", metadata: ["account": "\(key.id)", "version": "\(entry.account.version)",
                                                               "reason": "\(error.code)", "error": "\(error.description)"])
        batch.records.append(encoder.result(result, accountID: key.id))
        batch.pendingResults[key] = PublishedResult(resultID: result.resultID, accountVersion: entry.account.version, health: .error,
                                                    maintenance: 0, initial: 0)
    }

    /// The result of an account that cannot be margined: identity, health `error`, the reason; no
    /// amounts and `as_of_ms` 0 (nothing was computed), so that its id names one content forever.
    func errorResult(_ account: Account, _ error: MarginError) -> Margin_V1_MarginResult {
        var result = Margin_V1_MarginResult()
        result.accountID = account.id
        result.accountVersion = account.version
        result.parameterSetID = parameters?.id ?? configuration.paramsID
        result.parameterSetVersion = parameters?.version ?? 0
        result.valuationAsset = parameters?.valuationAsset ?? ""
        result.health = .error
        result.errorCode = error.code
        result.error = error.description
        result.resultID = errorResultID(account, error)
        return result
    }

    /// The id of an account's error result: it names the account version, the parameter set and the error.
    func errorResultID(_ account: Account, _ error: MarginError) -> String {
        DeterministicID.make("res", [account.id, String(account.version), parameters?.id ?? configuration.paramsID,
                                     String(parameters?.version ?? 0), "error", error.code, error.description])
    }
}
