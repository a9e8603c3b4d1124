import MarginCore

extension Account {
    /// The account from its wire form (validated against a catalog by the margin calculator).
    public init(proto p: Margin_V1_AccountState) {
        self.init(id: p.accountID, version: p.version, balances: p.balances,
                  positions: p.positions.map { Position(instrument: $0.instrument, quantity: $0.quantity,
                                                        averageEntryPrice: $0.averageEntryPrice, unsettledFunding: $0.unsettledFunding) })
    }

    /// The wire form.
    public var proto: Margin_V1_AccountState {
        var p = Margin_V1_AccountState()
        p.accountID = id
        p.version = version
        p.balances = balances
        p.positions = positions.map { position in
            var x = Margin_V1_Position()
            x.instrument = position.instrument
            x.quantity = position.quantity
            x.averageEntryPrice = position.averageEntryPrice
            x.unsettledFunding = position.unsettledFunding
            return x
        }
        return p
    }
}
