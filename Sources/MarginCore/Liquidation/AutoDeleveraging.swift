/// Auto-deleveraging (ADL): when the insurance fund cannot cover a bankrupt account's deficit, the
/// opposite side's profitable positions are closed, best ranked first, until their profits cover it.
///
/// The ranking is the rule the venues that publish theirs use (BitMEX, Binance, Bybit and others:
/// "profit percentage × effective leverage", for profitable positions only):
/// `score = (unrealised profit / |entry notional|) × (|mark notional| / account equity)`. Accounts
/// without positive equity or profit are not ranked. Ties: higher profit, then account id, then
/// instrument (deterministic).
///
/// Allocation: position `i` with profit `P_i` gives up `min(P_i, remaining deficit)`, closing the same
/// share `f_i = that / P_i` of its quantity at the mark (`f_i × |mark notional|` of ADL notional).
/// Amounts are valuation units; quantities contracts.
public enum AutoDeleveraging {
    /// A position that may be deleveraged.
    public struct Candidate: Sendable, Hashable {
        public var accountID: String
        public var instrument: String
        /// Signed contracts (> 0 long).
        public var quantity: Double
        /// Unrealised profit at the mark (valuation units; only > 0 ranks).
        public var unrealisedProfit: Double
        /// |quantity| × notional per contract at the entry price, and at the mark (valuation units).
        public var entryNotional: Double
        public var markNotional: Double
        /// The account's equity (valuation units; only > 0 ranks).
        public var accountEquity: Double

        public init(accountID: String, instrument: String, quantity: Double, unrealisedProfit: Double, entryNotional: Double,
                    markNotional: Double, accountEquity: Double) {
            self.accountID = accountID
            self.instrument = instrument
            self.quantity = quantity
            self.unrealisedProfit = unrealisedProfit
            self.entryNotional = entryNotional
            self.markNotional = markNotional
            self.accountEquity = accountEquity
        }

        /// `profit % × effective leverage`; nil when the position is not eligible.
        public var score: Double? {
            guard unrealisedProfit > 0, accountEquity > 0, entryNotional > 0, markNotional > 0,
                  unrealisedProfit.isFinite, accountEquity.isFinite, entryNotional.isFinite, markNotional.isFinite else { return nil }
            return (unrealisedProfit / entryNotional) * (markNotional / accountEquity)
        }
    }

    /// One deleveraging: `quantity` contracts (signed like the position, |quantity| ≤ |position|) closed
    /// at the mark, giving up `profitTaken` of the position's profit.
    public struct Allocation: Sendable, Hashable {
        public var accountID: String
        public var instrument: String
        public var quantity: Double
        public var notional: Double
        public var profitTaken: Double
        public var score: Double
    }

    /// Eligible candidates, best ranked first.
    public static func ranking(_ candidates: [Candidate]) -> [(candidate: Candidate, score: Double)] {
        candidates.compactMap { candidate in candidate.score.map { (candidate, $0) } }.sorted { lhs, rhs in
            if lhs.score != rhs.score { return lhs.score > rhs.score }
            if lhs.candidate.unrealisedProfit != rhs.candidate.unrealisedProfit {
                return lhs.candidate.unrealisedProfit > rhs.candidate.unrealisedProfit
            }
            if lhs.candidate.accountID != rhs.candidate.accountID { return lhs.candidate.accountID < rhs.candidate.accountID }
            return lhs.candidate.instrument < rhs.candidate.instrument
        }
    }

    /// Who is deleveraged, and by how much, to cover `deficit` (valuation units, > 0), in ranking
    /// order. The profits taken sum to `min(deficit, Σ eligible profit)`.
    public static func allocate(deficit: Double, among candidates: [Candidate]) -> [Allocation] {
        guard deficit > 0, deficit.isFinite else { return [] }
        var remaining = deficit
        var allocations: [Allocation] = []
        for (candidate, score) in ranking(candidates) {
            guard remaining > 0 else { break }
            let taken = min(candidate.unrealisedProfit, remaining)
            let share = taken / candidate.unrealisedProfit
            allocations.append(Allocation(accountID: candidate.accountID, instrument: candidate.instrument,
                                          quantity: candidate.quantity * share, notional: candidate.markNotional * share,
                                          profitTaken: taken, score: score))
            remaining -= taken
        }
        return allocations
    }
}
