/// Escaping text for HTML element content and attribute values (`&`, `<`, `>`, `"`, `'`): the
/// one rule the backtest report and the risk console share (both write pages from account ids,
/// instrument names and other text that comes from input).
public enum HTMLEscaping {
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
