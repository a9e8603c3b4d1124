import ArgumentParser
import Foundation
import MarginCore

/// `margin-engine price`: Black-76 prices and greeks for JSON lines on stdin.
struct PriceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "price",
        abstract: "Price options from JSON lines on stdin; one JSON line out per line in.",
        discussion: """
        Input: {"forward": F, "strike": K, "expiry_years": T, "vol": 0.8, "rate": 0, "type": "call"|"put", \
        "settlement": "linear"|"inverse"}. Output: {"price", "delta", "gamma", "vega", "theta", "coin_delta"} \
        (inverse: price in coins, greeks of the coin value; vega per 1.00 of vol, theta per year), or \
        {"error": reason} for a bad line. Keeps going after bad lines.
        """
    )

    func run() throws {
        while let line = readLine(strippingNewline: true) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            FileHandleOutput.standardOutput(jsonLine(Self.price(line: line)) + "\n")
        }
    }

    static func price(line: String) -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            return ["error": "invalid JSON object"]
        }
        func number(_ key: String, default value: Double? = nil) throws(MarginError) -> Double {
            guard let raw = object[key] else {
                if let value { return value }
                throw .invalidInput(field: key, reason: "missing")
            }
            guard let number = raw as? NSNumber, !(raw is Bool) || false else { throw .invalidInput(field: key, reason: "must be a number") }
            return number.doubleValue
        }
        do {
            let typeText = (object["type"] as? String)?.lowercased() ?? ""
            guard let right = OptionRight(rawValue: typeText) else { throw MarginError.invalidInput(field: "type", reason: "must be call or put") }
            let settlementText = (object["settlement"] as? String)?.lowercased() ?? "linear"
            guard let settlement = Settlement(rawValue: settlementText) else {
                throw MarginError.invalidInput(field: "settlement", reason: "must be linear or inverse")
            }
            let inputs = Black76Inputs(forward: try number("forward"), strike: try number("strike"),
                                       timeToExpiry: try number("expiry_years"), volatility: try number("vol"),
                                       rate: try number("rate", default: 0), right: right, settlement: settlement)
            try inputs.validate()
            let v = Black76.valuation(inputs)
            for (name, value) in [("price", v.price), ("delta", v.delta), ("gamma", v.gamma), ("vega", v.vega), ("theta", v.theta)] where !value.isFinite {
                throw MarginError.numerical("\(name) is not finite")
            }
            return ["price": v.price, "delta": v.delta, "gamma": v.gamma, "vega": v.vega, "theta": v.theta, "coin_delta": v.coinDelta]
        } catch let error as MarginError {
            return ["error": error.description, "code": error.code]
        } catch {
            return ["error": "\(error)"]
        }
    }
}
