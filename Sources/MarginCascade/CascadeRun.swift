import MarginCore
import MarginDemo
import MarginEngineCore

/// One policy's run over a scenario: every step re-margins every account on the realised market,
/// the worker's liquidation coordinator plans the window's instructions (severity order, budget,
/// outstanding instructions), the executor fills their legs against the displayed books, and the
/// fills move the books and the index. A step runs planning rounds of one budget window (1 s of
/// the coordinator's clock) each on the step's exogenous market, on the market the fills left,
/// until no leg fills (at most ``maxRoundsPerStep``): liquidations triggered by earlier fills
/// follow within the step. The first window of a step re-margins every account; the later ones
/// re-margin the accounts within ``screenRatio`` of their limit (equity < screenRatio × MM) and
/// those the fills changed, unless the index has moved more than ``screenMove`` since the step's
/// first window (then every account again): a move that small cannot take a third of an account's
/// equity over its MM.
struct CascadeRun {
    let world: CascadeWorld
    let scenario: CascadeScenario
    let policy: CascadePolicy
    let calculator: MarginCalculator
    let settings: LiquidationSettings
    var coordinator: LiquidationCoordinator
    var ledger: CascadeLedger
    var depletion = BookDepletion()
    let accountIndex: [String: Int]
    var exposures: [AccountExposure?]
    var health: [HealthState]
    var summaries: [MarginSummary]
    var riskBook: RiskBook?
    /// Signed delta notional each account has closed (> 0 sold): the side ADL counterparties oppose.
    var closedDelta: [Double]
    var settled: Set<Int> = []
    /// Accounts that have been liquidatable or bankrupt at some point of the run.
    var everInLiquidation: [Bool]
    /// The exogenous envelope of the rest of the path and its markets and risk books, built when an
    /// endogenous check needs them (``endogenousTriggers(_:seconds:)``).
    var envelope: (key: [Double], states: [(markets: MarketState, book: RiskBook)])?
    var tally = Tally()
    static let maxRoundsPerStep = 20
    static let screenRatio = 1.5
    static let screenMove = 0.005
    /// The index displacement of the step's first window.
    var stepDisplacement = 0.0

    struct Tally {
        var waves = 0
        var instructions = 0
        var fills = 0
        var liquidatedNotional = 0.0
        var maxDisplacement = 0.0
        var maxConservationError = 0.0
        var liquidated: Set<Int> = []
        var bankrupt: Set<Int> = []
        var deleveraged: Set<Int> = []
        /// Accounts first liquidatable because of earlier fills (``endogenousTriggers(_:seconds:)``).
        var endogenous: Set<Int> = []
        var steps: [CascadeStep] = []
        var ratioOpening = 0.0
        var ratioStressed = 0.0
    }

    init(world: CascadeWorld, scenario: CascadeScenario, policy: CascadePolicy) {
        self.world = world
        self.scenario = scenario
        self.policy = policy
        calculator = MarginCalculator(parameters: policy.parameters(world.parameters))
        settings = policy.settings(world.liquidation)
        coordinator = LiquidationCoordinator(settings: settings)
        ledger = CascadeLedger(accounts: world.accounts, fund: world.insuranceFund, valuationAsset: world.parameters.valuationAsset)
        accountIndex = Dictionary(uniqueKeysWithValues: world.accounts.enumerated().map { ($0.element.id, $0.offset) })
        exposures = Array(repeating: nil, count: world.accounts.count)
        health = Array(repeating: .healthy, count: world.accounts.count)
        summaries = Array(repeating: .unavailable, count: world.accounts.count)
        closedDelta = Array(repeating: 0, count: world.accounts.count)
        everInLiquidation = Array(repeating: false, count: world.accounts.count)
    }

    /// Runs the scenario to its end.
    mutating func run() throws -> CascadePolicyResult {
        let opening = try world.marketState(scenario: scenario, seconds: 0, depletion: nil)
        tally.ratioOpening = try cascadeRatio(markets: opening.markets)
        let stressedStep = (0...scenario.stepCount).min { a, b in
            scenario.state(atSeconds: Double(a) * scenario.stepSeconds).depthMultiplier
                < scenario.state(atSeconds: Double(b) * scenario.stepSeconds).depthMultiplier
        } ?? 0
        var clock = 0.0
        let rounds = min(Self.maxRoundsPerStep, max(1, Int(scenario.stepSeconds)))
        for step in 0...scenario.stepCount {
            let seconds = min(Double(step) * scenario.stepSeconds, scenario.durationSeconds)
            depletion.recover(seconds: seconds - clock, halfLife: scenario.bookHalfLifeSeconds)
            if step == stressedStep {
                tally.ratioStressed = try cascadeRatio(markets: try world.marketState(scenario: scenario, seconds: seconds,
                                                                                       depletion: depletion).markets)
            }
            var record = CascadeStep(seconds: seconds, exogenousIndex: 0, realisedIndex: 0, depthMultiplier: 0, liquidatedNotional: 0,
                                     newLiquidatable: 0, endogenousTriggers: 0, rounds: 0)
            for round in 0..<rounds {
                let outcome = try self.round(step: seconds, window: round, into: &record)
                record.rounds += 1
                clock = seconds + Double(round)
                if !outcome { break }
                depletion.recover(seconds: 1, halfLife: scenario.bookHalfLifeSeconds)
                clock += 1
            }
            tally.maxConservationError = max(tally.maxConservationError, ledger.conservationError())
            tally.steps.append(record)
        }
        return try finish()
    }

    /// Budget window `window` of the step at `seconds`: re-margin, plan, fill, settle. Returns
    /// whether any leg filled.
    mutating func round(step seconds: Double, window: Int, into record: inout CascadeStep) throws -> Bool {
        let state = try world.marketState(scenario: scenario, seconds: seconds, depletion: depletion)
        let book = try world.riskBook(calculator, markets: state.markets, reusing: riskBook)
        riskBook = book
        let everyAccount = window == 0 || abs(state.displacement - stepDisplacement) > Self.screenMove
        if window == 0 { stepDisplacement = state.displacement }
        try remargin(book: book, markets: state.markets, every: everyAccount)
        let exogenous = world.market.index * scenario.state(atSeconds: seconds).move.indexFactor
        record.exogenousIndex = exogenous
        record.realisedIndex = state.markets[CascadeWorld.underlying]?.indexPrice ?? exogenous
        record.depthMultiplier = state.depthMultiplier
        tally.maxDisplacement = max(tally.maxDisplacement, abs(state.displacement))
        // Accounts liquidatable for the first time, and which of them the exogenous market alone
        // would have left out of liquidation.
        let newly = health.indices.filter { health[$0].isInLiquidation && !everInLiquidation[$0] }
        for index in newly { everInLiquidation[index] = true }
        record.newLiquidatable += newly.count
        if !newly.isEmpty, state.displacement != 0 || !depletion.taken.isEmpty {
            let endogenous = try endogenousTriggers(newly, seconds: seconds)
            record.endogenousTriggers += endogenous.count
            tally.endogenous.formUnion(endogenous)
            if !endogenous.isEmpty { tally.waves += 1 }
        }
        // Plan this window as the worker does.
        for index in ledger.accounts.indices {
            let account = ledger.accounts[index]
            coordinator.observe(AccountKey(partition: 0, id: account.id), account: health[index].isInLiquidation ? account : nil,
                                health: health[index], summary: summaries[index])
        }
        let context = LiquidationContext(calculator: calculator, reference: ReferenceData(catalog: world.catalog, markets: state.markets,
                                                                                           riskBooks: [CascadeWorld.underlying: book]),
                                         isStale: { _ in false }, isServing: { _ in true })
        let actions = coordinator.plan(now: world.market.startMs + Int64(seconds * 1000) + Int64(window) * 1000, context: context)
        if let failure = coordinator.newFailures.first { throw CascadeError("liquidation planning cannot use \(failure)") }
        coordinator.committed(actions.map(\.commit))
        var markets = state.markets
        var filled: [Int] = []
        for action in actions {
            guard case .instruct(let plan, let instruction, _, _, _) = action, let index = accountIndex[instruction.accountID] else { continue }
            if !plan.legs.isEmpty { tally.instructions += 1 }
            let notional = try execute(plan, account: index, markets: &markets, baseBooks: state.baseBooks, book: book)
            if notional > 0 {
                filled.append(index)
                record.liquidatedNotional += notional
            }
        }
        try settleBankruptcies(filled, book: book, markets: markets)
        return !filled.isEmpty
    }

    /// Margins every account on `book`, or (`every` false) those near their limit or changed since
    /// their last margin; exposures are recompiled for accounts whose version moved.
    mutating func remargin(book: RiskBook, markets: MarketState, every: Bool) throws {
        let accounts = ledger.accounts, exposures = self.exposures, calculator = self.calculator, parameters = calculator.parameters
        let catalog = world.catalog
        let books = [CascadeWorld.underlying: book]
        let indices = every ? Array(accounts.indices) : accounts.indices.filter { index in
            summaries[index].equity < Self.screenRatio * summaries[index].maintenanceRequirement
                || exposures[index]?.account.version != accounts[index].version
        }
        let results = MarginEngine.parallelMap(indices, minimumChunk: 256) { index -> Result<(AccountExposure, MarginSummary), MarginError> in
            do throws(MarginError) {
                let account = accounts[index]
                let exposure: AccountExposure
                if let held = exposures[index], held.account.version == account.version {
                    exposure = held
                } else {
                    exposure = try AccountExposure(account: account, catalog: catalog, books: books, parameters: parameters)
                }
                return .success((exposure, try calculator.summary(exposure, books: books, markets: markets)))
            } catch {
                return .failure(error)
            }
        }
        for (index, result) in zip(indices, results) {
            switch result {
            case .success(let (exposure, summary)):
                self.exposures[index] = exposure
                summaries[index] = summary
                health[index] = summary.health
            case .failure(let error):
                throw CascadeError.account(accounts[index].id, error)
            }
        }
    }

    /// Which of `indices` the exogenous path alone would not have liquidated: accounts healthy at the
    /// extreme exogenous states still ahead (from `seconds` to the end of the path: the lowest and
    /// the highest index, each with the lowest and with the highest volatility and skew shift, all
    /// with the thinnest depth seen on the way, nothing taken by liquidations). An account the path
    /// would have liquidated later anyway counts as accelerated, not triggered. The corners bound
    /// accounts whose loss is monotone in the index and in volatility; one whose worst point lies
    /// mid-range (a butterfly) may be counted as triggered when the path alone would have sufficed.
    mutating func endogenousTriggers(_ indices: [Int], seconds: Double) throws -> [Int] {
        let ahead = stride(from: seconds, through: scenario.durationSeconds, by: scenario.stepSeconds).map { scenario.state(atSeconds: $0) }
            + [scenario.state(atSeconds: scenario.durationSeconds)]
        let lowest = ahead.map(\.move.indexFactor).min() ?? 1, highest = ahead.map(\.move.indexFactor).max() ?? 1
        let volatility = ahead.map(\.move.volatilityFactor), skew = ahead.map(\.move.skewShift)
        let calm = (volatility.min() ?? 1, skew.min() ?? 0), stressed = (volatility.max() ?? 1, skew.max() ?? 0)
        let depth = ahead.map(\.depthMultiplier).min() ?? 1
        let key = [lowest, highest, calm.0, calm.1, stressed.0, stressed.1, depth]
        if envelope?.key != key {
            var states: [(markets: MarketState, book: RiskBook)] = []
            for factor in Set([lowest, highest]).sorted() {
                for (vol, shift) in calm == stressed ? [stressed] : [calm, stressed] {
                    let move = MarketMove(indexFactor: factor, volatilityFactor: vol, skewShift: shift)
                    let markets = try world.marketState(move: move, depth: depth, depletion: nil).markets
                    states.append((markets, try world.riskBook(calculator, markets: markets, reusing: riskBook)))
                }
            }
            envelope = (key, states)
        }
        guard let states = envelope?.states else { throw CascadeError("no exogenous envelope at \(seconds) s") }
        var triggered: [Int] = []
        for index in indices {
            guard let exposure = exposures[index] else { throw CascadeError("account \(ledger.accounts[index].id) has no exposure") }
            var survives = true
            for state in states where survives {
                let books = [CascadeWorld.underlying: state.book]
                survives = !(try calculator.summary(exposure, books: books, markets: state.markets).health.isInLiquidation)
            }
            if survives { triggered.append(index) }
        }
        return triggered
    }
}

extension HealthState {
    /// Liquidatable or bankrupt.
    var isInLiquidation: Bool { self == .liquidatable || self == .bankrupt }
}
