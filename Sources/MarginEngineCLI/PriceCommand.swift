import ArgumentParser
import CommandLineSupport
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
        // Decoded with JSONDecoder: JSONSerialization bridges the numbers 0 and 1 to Bool on
        // Linux, which made `"rate": 0` or `"expiry_years": 1` look like non-numbers.
        let request: PriceRequest
        do {
            request = try JSONDecoder().decode(PriceRequest.self, from: Data(line.utf8))
        } catch let error as MarginError {
            return ["error": error.description, "code": error.code]
        } catch {
            return ["error": "invalid JSON object"]
        }
        do {
            let inputs = request.inputs
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

/// One input line of `margin-engine price`. Numbers must be JSON numbers (`true` is not 1);
/// a wrong or missing field throws a `MarginError` naming it.
struct PriceRequest: Decodable {
    var inputs: Black76Inputs

    enum CodingKeys: String, CodingKey {
        case forward, strike, expiryYears = "expiry_years", vol, rate, type, settlement
    }

    init(from decoder: any Decoder) throws {
        let c: KeyedDecodingContainer<CodingKeys>
        c = try decoder.container(keyedBy: CodingKeys.self) // not an object: "invalid JSON object"
        func number(_ key: CodingKeys, default value: Double? = nil) throws -> Double {
            guard c.contains(key) else {
                if let value { return value }
                throw MarginError.invalidInput(field: key.stringValue, reason: "missing")
            }
            do { return try c.decode(Double.self, forKey: key) } catch { throw MarginError.invalidInput(field: key.stringValue, reason: "must be a number") }
        }
        func text(_ key: CodingKeys) -> String? { (try? c.decodeIfPresent(String.self, forKey: key))?.lowercased() }
        guard let right = OptionRight(rawValue: text(.type) ?? "") else { throw MarginError.invalidInput(field: "type", reason: "must be call or put") }
        guard let settlement = Settlement(rawValue: text(.settlement) ?? "linear") else {
            throw MarginError.invalidInput(field: "settlement", reason: "must be linear or inverse")
        }
        inputs = Black76Inputs(forward: try number(.forward), strike: try number(.strike), timeToExpiry: try number(.expiryYears),
                               volatility: try number(.vol), rate: try number(.rate, default: 0), right: right, settlement: settlement)
    }
}
