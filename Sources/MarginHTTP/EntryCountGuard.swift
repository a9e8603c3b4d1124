import MarginCore

/// Bounds a request's cost before it is decoded: counts the entries of a JSON body's top-level
/// arrays and objects that carry an account's positions, balances and open orders, in one pass over
/// the bytes, and stops at the first count past its ``InputBounds`` limit. A megabyte of 90,000
/// balances is refused after the first few hundred (microseconds); the decoder and the engine
/// never see it. ``InputBounds/checkCount(_:_:_:)`` is the rule (decoded accounts are checked by
/// the same rule in `Account.validate`).
///
/// Only the structure is read (strings, escapes, nesting); anything malformed is left for the
/// decoder to report.
struct EntryCountGuard: Sendable {
    /// A counted member: its limit and the field an error names.
    struct Member: Sendable {
        var limit: Int
        var field: String
    }

    /// Top-level member names as a body may send them (proto JSON accepts the field name and its
    /// lowerCamelCase form).
    let members: [String: Member]
    let bounds: InputBounds

    /// The members of `margin.v1.AccountState` (the what-if body).
    static func accountState(_ bounds: InputBounds) -> EntryCountGuard {
        let positions = Member(limit: bounds.maxPositions, field: "positions")
        let balances = Member(limit: bounds.maxBalances, field: "balances")
        let orders = Member(limit: bounds.maxOpenOrders, field: "open_orders")
        return EntryCountGuard(members: ["positions": positions, "balances": balances, "open_orders": orders, "openOrders": orders],
                               bounds: bounds)
    }

    /// Throws the count error of the first counted member past its limit.
    func check(_ body: some Sequence<UInt8>) throws(MarginError) {
        var depth = 0
        var inString = false, escaped = false
        var expectKey = false
        var key: [UInt8] = [], keyCapture = false
        var lastKey: [UInt8]? = nil
        var counting: Member? = nil
        var count = 0, elementPending = false
        for byte in body {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    if keyCapture {
                        keyCapture = false
                        lastKey = key
                        expectKey = false
                    }
                } else if keyCapture, key.count < 64 {
                    key.append(byte)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                continue
            default:
                break
            }
            // An element of the counted container starts here.
            if depth == 2, counting != nil, elementPending, byte != UInt8(ascii: "]"), byte != UInt8(ascii: "}") {
                elementPending = false
                count += 1
                if let member = counting { try bounds.checkCount(count, member.limit, member.field) }
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                if depth == 1, expectKey {
                    keyCapture = true
                    key.removeAll(keepingCapacity: true)
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                if depth == 1 {
                    expectKey = byte == UInt8(ascii: "{")
                } else if depth == 2, let name = lastKey, let member = members[String(decoding: name, as: UTF8.self)] {
                    counting = member
                    count = 0
                    elementPending = true
                }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 2 { counting = nil }
                depth -= 1
            case UInt8(ascii: ","):
                if depth == 1 { expectKey = true; lastKey = nil }
                if depth == 2 { elementPending = true }
            default:
                break
            }
        }
    }
}
