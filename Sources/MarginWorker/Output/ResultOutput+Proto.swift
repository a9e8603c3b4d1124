import MarginCore
import MarginEngineCore
import MarginSchema

extension ResultOutput {
    /// The wire message (`margin.v1.MarginResult`): the explained result, a summary
    /// (`summary_only`), or an error result (health `error`, the reason, no amounts).
    public var proto: Margin_V1_MarginResult {
        switch self {
        case .full(let id, let result):
            return result.proto(resultID: id)
        case .summary(let id, let account, let figures, let set, let asOfMs, let timestamps):
            return figures.summaryProto(resultID: id, account: account, parameterSet: (set.id, set.version, set.valuationAsset), asOfMs: asOfMs,
                                        marketTimestamps: timestamps)
        case .error(let id, let account, let set, let error):
            return .error(id: id, account: account, parameterSet: (set.id, set.version, set.valuationAsset), error: error)
        }
    }
}
