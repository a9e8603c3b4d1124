/// How much margin a model holds for the risk it covers: the capital-efficiency figures Eurex
/// reports beside coverage for its CCP models (Eurex Clearing, "EurexOTC Clear / Prisma
/// backtesting and model performance" disclosures under CPMI-IOSCO PQD 6.6). Encoded as
/// `{"mean_margin_pct_notional", "margin_over_q99_loss", "breach_loss_to_margin_mean",
/// "breach_loss_to_margin_max", "apc_cost"}`.
///
/// Over the observed days (a finite margin and a finite realised loss):
/// - `mean_margin_pct_notional`: mean of `100 × margin / gross notional` (0 without notional);
/// - `margin_over_q99_loss`: mean margin ÷ the 99 % quantile (the ⌈0.99·n⌉-th smallest) of the
///   realised losses — how many times the realised tail the venue holds (0 when that quantile is
///   not a positive loss: there is no tail to compare with);
/// - `breach_loss_to_margin_mean` / `_max`: realised loss ÷ margin on exception days (0 with no
///   exception);
/// - `apc_cost`: mean margin with APC ÷ mean margin without APC − 1 (0 when the run has no
///   margin without APC, or its mean is not positive).
public struct EfficiencyMetrics: Sendable, Hashable, Codable {
    public var meanMarginPctNotional: Double
    public var marginOverQ99Loss: Double
    public var breachLossToMarginMean: Double
    public var breachLossToMarginMax: Double
    public var apcCost: Double

    enum CodingKeys: String, CodingKey {
        case meanMarginPctNotional = "mean_margin_pct_notional"
        case marginOverQ99Loss = "margin_over_q99_loss"
        case breachLossToMarginMean = "breach_loss_to_margin_mean"
        case breachLossToMarginMax = "breach_loss_to_margin_max"
        case apcCost = "apc_cost"
    }

    public init(meanMarginPctNotional: Double, marginOverQ99Loss: Double, breachLossToMarginMean: Double,
                breachLossToMarginMax: Double, apcCost: Double) {
        self.meanMarginPctNotional = meanMarginPctNotional
        self.marginOverQ99Loss = marginOverQ99Loss
        self.breachLossToMarginMean = breachLossToMarginMean
        self.breachLossToMarginMax = breachLossToMarginMax
        self.apcCost = apcCost
    }

    /// The figures of one series (margins and losses in the same units, one value per day).
    public init(margin: [Double], realisedLoss loss: [Double], notional: [Double], marginWithoutAPC: [Double]?) {
        let observed = margin.indices.filter { margin[$0].isFinite && $0 < loss.count && loss[$0].isFinite }
        guard !observed.isEmpty else {
            self.init(meanMarginPctNotional: 0, marginOverQ99Loss: 0, breachLossToMarginMean: 0, breachLossToMarginMax: 0, apcCost: 0)
            return
        }
        let count = Double(observed.count)
        let meanMargin = observed.reduce(0) { $0 + margin[$1] } / count
        let percentages = observed.compactMap { day -> Double? in
            day < notional.count && notional[day].isFinite && notional[day] > 0 ? 100 * margin[day] / notional[day] : nil
        }
        let meanPercent = percentages.isEmpty ? 0 : percentages.reduce(0, +) / Double(percentages.count)
        let q99 = Self.quantile(observed.map { loss[$0] }, 0.99)
        let breaches = observed.filter { loss[$0] > margin[$0] && margin[$0] > 0 }.map { loss[$0] / margin[$0] }
        var apcCost = 0.0
        if let without = marginWithoutAPC {
            let paired = observed.filter { $0 < without.count && without[$0].isFinite }
            let meanWith = paired.reduce(0) { $0 + margin[$1] }, meanWithout = paired.reduce(0) { $0 + without[$1] }
            if !paired.isEmpty, meanWithout > 0 { apcCost = meanWith / meanWithout - 1 }
        }
        self.init(meanMarginPctNotional: meanPercent, marginOverQ99Loss: q99 > 0 ? meanMargin / q99 : 0,
                  breachLossToMarginMean: breaches.isEmpty ? 0 : breaches.reduce(0, +) / Double(breaches.count),
                  breachLossToMarginMax: breaches.max() ?? 0, apcCost: apcCost)
    }

    /// The empirical quantile: the ⌈n·p⌉-th smallest value (0 for no value).
    static func quantile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = min(sorted.count, max(1, Int((Double(sorted.count) * p - 1e-9).rounded(.up))))
        return sorted[rank - 1]
    }

    var numbers: [(path: String, value: Double)] {
        [("mean_margin_pct_notional", meanMarginPctNotional), ("margin_over_q99_loss", marginOverQ99Loss),
         ("breach_loss_to_margin_mean", breachLossToMarginMean), ("breach_loss_to_margin_max", breachLossToMarginMax),
         ("apc_cost", apcCost)]
    }
}
