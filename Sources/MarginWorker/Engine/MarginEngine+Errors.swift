import Logging
import MarginCore
import MarginSchema

extension MarginEngine {
    /// An account that cannot be margined: counted by reason, logged, and published once per
    /// version and reason as a result with health `error` (never dropped silently).
    func recordError(_ key: AccountKey, _ error: MarginError, now: Int64) {
        guard accounts.update(key, { entry in
            entry.effectiveHealth = .error
            entry.summary = nil
        }), let entry = accounts[key] else { return }
        liquidation.observe(key, entry: entry, health: .error, summary: .unavailable)
        guard accounts[key.partition]?.isServing == true else { return }
        let result = errorResult(entry.account, error)
        if entry.published?.resultID == result.resultID || batch.pendingResults[key]?.resultID == result.resultID { return }
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
        result.resultID = DeterministicID.make("res", [account.id, String(account.version), result.parameterSetID,
                                                       String(result.parameterSetVersion), "error", error.code, error.description])
        return result
    }
}
