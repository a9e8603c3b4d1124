import MarginCore

extension Account {
    /// The account from its wire form (validated against a catalog by the margin calculator).
    /// Throws for an open order without a side.
    public init(proto p: Margin_V1_AccountState) throws(MarginError) {
        var orders: [OpenOrder] = []
        for (index, order) in p.openOrders.enumerated() {
            orders.append(try OpenOrder(proto: order, field: "account \(p.accountID).open_orders[\(index)]"))
        }
        self.init(id: p.accountID, version: p.version, balances: p.balances,
                  positions: p.positions.map { Position(instrument: $0.instrument, quantity: $0.quantity,
                                                        averageEntryPrice: $0.averageEntryPrice, unsettledFunding: $0.unsettledFunding) },
                  openOrders: orders)
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
        p.openOrders = openOrders.map { order in
            var x = Margin_V1_OpenOrder()
            x.orderID = order.id
            x.instrument = order.instrument
            x.side = order.side == .buy ? .buy : .sell
            x.quantity = order.quantity
            x.limitPrice = order.limitPrice
            if let size = order.mmpQuoteSize { x.mmpQuoteSize = size }
            return x
        }
        return p
    }
}

extension OpenOrder {
    /// The order from its wire form; throws for a missing side.
    public init(proto order: Margin_V1_OpenOrder, field: String) throws(MarginError) {
        let side: Side
        switch order.side {
        case .buy: side = .buy
        case .sell: side = .sell
        case .unspecified, .UNRECOGNIZED:
            throw .invalidInput(field: "\(field).side", reason: "must be ORDER_SIDE_BUY or ORDER_SIDE_SELL")
        }
        self.init(id: order.orderID, instrument: order.instrument, side: side, quantity: order.quantity,
                  limitPrice: order.limitPrice, mmpQuoteSize: order.hasMmpQuoteSize ? order.mmpQuoteSize : nil)
    }
}
