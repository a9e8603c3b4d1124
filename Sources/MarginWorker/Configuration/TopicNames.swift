/// Topic names of the worker (these are the defaults; see `Schemas/README.md`).
public struct TopicNames: Sendable, Hashable {
    public var instruments = "margin.instruments.v1"
    public var market = "margin.market.v1"
    public var accounts = "margin.accounts.v1"
    public var params = "margin.params.v1"
    public var results = "margin.results.v1"
    public var liquidations = "margin.liquidations.v1"
    public var liquidationState = "margin.liquidation-state.v1"
    public var deadLetter = "margin.deadletter.v1"

    public init() {}

    /// The compacted input topics every instance reads whole.
    public var reference: [String] { [instruments, market, params] }
    /// Every topic the worker uses.
    public var all: [String] { [instruments, market, accounts, params, results, liquidations, liquidationState, deadLetter] }
}
