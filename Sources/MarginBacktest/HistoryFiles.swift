import Foundation
import MarginCore

/// Loads price histories from `UNDERLYING=path` lists (or bare paths, named by their ticker) and
/// the bundled BTC and ETH history.
public enum HistoryFiles {
    /// The bundled files, by underlying (see `Resources/README.md` for their source and checksums).
    public static let bundled: [String: String] = ["BTC": "btc_usd_daily", "ETH": "eth_usd_daily"]

    /// The URL of a bundled history file.
    public static func bundledURL(_ underlying: String) -> URL? {
        bundled[underlying].flatMap { Bundle.module.url(forResource: $0, withExtension: "csv") }
    }

    /// `BTC=btc.csv,ETH=eth.csv` (or `btc.csv,eth.csv`, or `builtin`) → histories.
    /// An empty spec or `builtin` loads the bundled BTC and ETH files.
    public static func load(_ spec: String?) throws(MarginError) -> [PriceHistory] {
        let text = spec?.trimmingCharacters(in: .whitespaces) ?? ""
        if text.isEmpty || text == "builtin" {
            var histories: [PriceHistory] = []
            for underlying in bundled.keys.sorted() {
                guard let url = bundledURL(underlying) else { throw .invalidInput(field: "prices", reason: "bundled history of \(underlying) is missing") }
                histories.append(try load(path: url.path, underlying: underlying))
            }
            return histories
        }
        var histories: [PriceHistory] = []
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            let (name, path) = parts.count == 2 ? (Optional(parts[0]), parts[1]) : (nil, parts[0])
            histories.append(try load(path: path, underlying: name))
        }
        return histories
    }

    /// One CSV file; the underlying defaults to the file's ticker, else its file name (`sol.csv` → `SOL`).
    public static func load(path: String, underlying: String?) throws(MarginError) -> PriceHistory {
        guard let data = FileManager.default.contents(atPath: path) else { throw .invalidInput(field: "prices", reason: "cannot read \(path)") }
        let text = String(decoding: data, as: UTF8.self)
        let source = (path as NSString).lastPathComponent
        do {
            return try PriceHistory.parseCSV(text, source: source, underlying: underlying).history
        } catch {
            guard underlying == nil, "\(error)".contains("no ticker") else { throw error }
            let stem = (source as NSString).deletingPathExtension.split(separator: "_").first.map(String.init) ?? source
            return try PriceHistory.parseCSV(text, source: source, underlying: PriceHistory.underlyingName(ofTicker: stem)).history
        }
    }
}
