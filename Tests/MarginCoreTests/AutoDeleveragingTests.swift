import MarginCore
import Testing

@Suite("Auto-deleveraging ranking")
struct AutoDeleveragingTests {
    static func candidate(_ id: String, profit: Double, entry: Double, mark: Double, equity: Double, quantity: Double = -10)
        -> AutoDeleveraging.Candidate {
        AutoDeleveraging.Candidate(accountID: id, instrument: "BTC-PERPETUAL", quantity: quantity, unrealisedProfit: profit,
                                   entryNotional: entry, markNotional: mark, accountEquity: equity)
    }

    @Test("Score = profit % × effective leverage; losers and accounts without equity are not ranked")
    func knownScores() {
        // a: 10 % profit, leverage 1,100/110 = 10 → 1.0; b: 20 %, 2 → 0.4; c: 5 %, 20 → 1.0 (less profit, ranks after a).
        let a = Self.candidate("a", profit: 100, entry: 1_000, mark: 1_100, equity: 110)
        let b = Self.candidate("b", profit: 200, entry: 1_000, mark: 1_200, equity: 600)
        let c = Self.candidate("c", profit: 50, entry: 1_000, mark: 1_050, equity: 52.5)
        let loser = Self.candidate("d", profit: -30, entry: 1_000, mark: 970, equity: 100)
        let broke = Self.candidate("e", profit: 80, entry: 1_000, mark: 1_080, equity: 0)
        let ranking = AutoDeleveraging.ranking([b, loser, c, broke, a])
        #expect(ranking.map(\.candidate.accountID) == ["a", "c", "b"])
        #expect(abs(ranking[0].score - 1.0) < 1e-12)
        #expect(abs(ranking[1].score - 1.0) < 1e-12)
        #expect(abs(ranking[2].score - 0.4) < 1e-12)
    }

    @Test("Allocation: best ranked first, each gives up at most its profit, shares close at the mark")
    func allocation() {
        let a = Self.candidate("a", profit: 100, entry: 1_000, mark: 1_100, equity: 110)
        let b = Self.candidate("b", profit: 200, entry: 1_000, mark: 1_200, equity: 600, quantity: -20)
        let allocations = AutoDeleveraging.allocate(deficit: 150, among: [b, a])
        #expect(allocations.map(\.accountID) == ["a", "b"])
        // a gives all of its 100 (its whole position, 1,100 of notional); b the remaining 50 of 200: a quarter.
        #expect(allocations[0].profitTaken == 100 && allocations[0].quantity == -10 && allocations[0].notional == 1_100)
        #expect(abs(allocations[1].profitTaken - 50) < 1e-12)
        #expect(abs(allocations[1].quantity - -5) < 1e-12)
        #expect(abs(allocations[1].notional - 300) < 1e-12)
        // More deficit than profit: everything eligible is taken, no more.
        let all = AutoDeleveraging.allocate(deficit: 1_000, among: [a, b])
        #expect(abs(all.map(\.profitTaken).reduce(0, +) - 300) < 1e-12)
        #expect(AutoDeleveraging.allocate(deficit: 0, among: [a]).isEmpty)
        #expect(AutoDeleveraging.allocate(deficit: .nan, among: [a]).isEmpty)
    }
}
