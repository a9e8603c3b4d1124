import MarginCore

/// Who holds what during a run: the accounts, the book's makers (who take the other side of every
/// close-out and of every deleveraging) and the insurance fund. Cash is the valuation asset
/// (valuation units); positions are contracts. Every movement has two sides, so that the totals
/// across the three are conserved (``conservationError()``).
struct CascadeLedger: Sendable {
    private(set) var accounts: [Account]
    private(set) var makersPositions: [String: Double] = [:]
    private(set) var makersCash = 0.0
    private(set) var fund: Double
    private(set) var fundIncome = 0.0
    private(set) var fundUsed = 0.0
    /// Deficits settled (by the fund, by ADL, or left uncovered).
    private(set) var deficits = 0.0
    private(set) var adlNotional = 0.0
    /// Deficits neither the fund nor ADL could cover (left as the accounts' negative cash).
    private(set) var uncovered = 0.0
    let valuationAsset: String
    private let openingPositions: [String: Double]
    private let openingCash: Double

    init(accounts: [Account], fund: Double, valuationAsset: String) {
        self.accounts = accounts
        self.fund = fund
        self.valuationAsset = valuationAsset
        self.openingPositions = Self.positionTotals(accounts, makers: [:])
        self.openingCash = Self.cashTotal(accounts, valuationAsset: valuationAsset) + fund
    }

    /// A close-out fill: the account closes `closed` contracts (signed like its position, so that
    /// the position moves towards 0) worth `value` each at the mark (valuation units, signed per
    /// signed contract) at an execution cost `cost` (the walk and impact, to the makers) and a
    /// `penalty` (to the fund). The makers take the position over.
    mutating func close(account index: Int, instrument: String, closed: Double, value: Double, cost: Double, penalty: Double) throws {
        guard let slot = accounts[index].positions.firstIndex(where: { $0.instrument == instrument }) else {
            throw CascadeError("account \(accounts[index].id) holds no \(instrument) to close")
        }
        reduce(account: index, slot: slot, by: closed)
        accounts[index].balances[valuationAsset, default: 0] += closed * value - cost - penalty
        makersPositions[instrument, default: 0] += closed
        makersCash -= closed * value - cost
        fund += penalty
        fundIncome += penalty
    }

    /// Closes `closed` contracts of a position (signed like it). Its unsettled funding is in the
    /// value per contract the close moved into cash, so the position keeps only the rest's share.
    private mutating func reduce(account index: Int, slot: Int, by closed: Double) {
        let before = accounts[index].positions[slot].quantity
        var after = before - closed
        if abs(after) < 1e-12 { after = 0 }
        accounts[index].positions[slot].quantity = after
        accounts[index].positions[slot].unsettledFunding *= before != 0 ? after / before : 0
    }

    /// After a batch of fills: positions closed to 0 are dropped and the version moves on (the
    /// executor publishes the new account state).
    mutating func publish(account index: Int) {
        accounts[index].positions.removeAll { $0.quantity == 0 }
        accounts[index].version += 1
    }

    /// Settles a bankrupt account's deficit (valuation units, > 0): the fund pays what it can, then
    /// the ADL allocations (``AutoDeleveraging/allocate(deficit:among:)``; each closes its share at
    /// the mark against the makers and gives up the profit it realised) cover the rest. Returns the
    /// fund's part, the allocations applied and what stays uncovered.
    mutating func settle(account index: Int, deficit: Double, adlCandidates: [AutoDeleveraging.Candidate],
                         accountIndex: [String: Int]) throws -> (fund: Double, allocations: [AutoDeleveraging.Allocation], uncovered: Double) {
        deficits += deficit
        let fromFund = min(max(0, fund), deficit)
        fund -= fromFund
        fundUsed += fromFund
        accounts[index].balances[valuationAsset, default: 0] += fromFund
        let remaining = deficit - fromFund
        guard remaining > 0 else { return (fromFund, [], 0) }
        let allocations = AutoDeleveraging.allocate(deficit: remaining, among: adlCandidates)
        var covered = 0.0
        for allocation in allocations {
            guard let other = accountIndex[allocation.accountID],
                  let slot = accounts[other].positions.firstIndex(where: { $0.instrument == allocation.instrument }) else {
                throw CascadeError("ADL allocation to \(allocation.accountID) names no \(allocation.instrument) position")
            }
            // Closed at the mark: the position's share realises `profitTaken` into cash, which is
            // handed to the bankrupt account; the makers pay that value for the position.
            reduce(account: other, slot: slot, by: allocation.quantity)
            makersPositions[allocation.instrument, default: 0] += allocation.quantity
            makersCash -= allocation.profitTaken
            accounts[index].balances[valuationAsset, default: 0] += allocation.profitTaken
            adlNotional += allocation.notional
            covered += allocation.profitTaken
            publish(account: other)
        }
        let left = max(0, remaining - covered)
        uncovered += left
        return (fromFund, allocations, left)
    }

    /// The largest departure from the opening totals: |Δ cash| (valuation units) and, per
    /// instrument, |Δ contracts|, across accounts, makers and fund.
    func conservationError() -> Double {
        var error = abs(Self.cashTotal(accounts, valuationAsset: valuationAsset) + makersCash + fund - openingCash)
        let now = Self.positionTotals(accounts, makers: makersPositions)
        for name in Set(now.keys).union(openingPositions.keys) {
            error = max(error, abs((now[name] ?? 0) - (openingPositions[name] ?? 0)))
        }
        return error
    }

    static func positionTotals(_ accounts: [Account], makers: [String: Double]) -> [String: Double] {
        var totals = makers
        for account in accounts {
            for position in account.positions { totals[position.instrument, default: 0] += position.quantity }
        }
        return totals
    }

    static func cashTotal(_ accounts: [Account], valuationAsset: String) -> Double {
        accounts.reduce(0) { $0 + ($1.balances[valuationAsset] ?? 0) }
    }
}
