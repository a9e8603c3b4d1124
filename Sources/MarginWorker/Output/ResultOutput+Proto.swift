import Foundation
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

extension ResultOutput {
    /// The record value in `format`. A summary in protobuf is written directly
    /// (``MarginSummary/summaryResultBytes(resultID:account:parameterSet:asOfMs:marketTimestamps:)``:
    /// the bytes of its message's encoding without building the message), everything else
    /// through ``proto``.
    func encoded(format: SchemaCoding.Format) throws(MarginError) -> Data {
        if format == .protobuf, case .summary(let id, let account, let figures, let set, let asOfMs, let timestamps) = self {
            return figures.summaryResultBytes(resultID: id, account: account, parameterSet: (set.id, set.version, set.valuationAsset),
                                              asOfMs: asOfMs, marketTimestamps: timestamps)
        }
        return try SchemaCoding.encode(proto, format: format)
    }
}
