import Foundation

/// Examples written in the READMEs.
enum ReadmeExamples {
    /// Inline `{"forward": …}` input lines (in backticks), placeholders included.
    static func priceTemplates(in text: String) -> [String] {
        var templates: [String] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "`") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "`") else { break }
            let span = after[..<close]
            if span.hasPrefix("{") && span.contains("\"forward\"") && span.contains("\"strike\"") { templates.append(String(span)) }
            rest = after[after.index(after: close)...]
        }
        return templates
    }

    /// Concrete lines from a template: single-letter placeholders become numbers (F, K: prices;
    /// T: one year), and each `"a"|"b"` alternative is taken in turn (first of each, second of each).
    static func instantiate(_ template: String) -> [String] {
        let values: [Character: String] = ["F": "60000", "K": "55000", "T": "1", "S": "60000"]
        var line = ""
        let characters = Array(template)
        var i = 0
        while i < characters.count {
            let c = characters[i]
            let before = i > 0 ? characters[i - 1] : " "
            let after = i + 1 < characters.count ? characters[i + 1] : " "
            if c.isUppercase && c.isLetter && !before.isLetter && before != "\"" && !after.isLetter && after != "\"" {
                line += values[c] ?? "1"
            } else {
                line.append(c)
            }
            i += 1
        }
        // Alternatives: "a"|"b"|… → variant k takes the k-th (or the last) alternative.
        let pattern = #/"([^"]*)"(\|"[^"]*")+/#
        var variants: [String] = []
        let maximum = line.matches(of: pattern).map { $0.output.0.split(separator: "|").count }.max() ?? 1
        for k in 0..<maximum {
            variants.append(line.replacing(pattern) { match in
                let options = match.output.0.split(separator: "|")
                return options[min(k, options.count - 1)]
            })
        }
        return variants
    }

    /// Commands of the ```sh / ```bash / ```console blocks (continuation lines joined, comments
    /// and `$ ` prompts removed).
    static func shellCommands(in text: String) -> [String] {
        var commands: [String] = []
        var inShell = false, inBlock = false
        var pending = ""
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("```") {
                if inBlock {
                    inBlock = false
                    inShell = false
                } else {
                    inBlock = true
                    inShell = ["sh", "bash", "shell", "console", "zsh"].contains(line.dropFirst(3).trimmingCharacters(in: .whitespaces))
                }
                pending = ""
                continue
            }
            guard inShell else { continue }
            var command = line.hasPrefix("$ ") ? String(line.dropFirst(2)) : line
            if command.hasSuffix("\\") {
                command.removeLast()
                pending += command + " "
                continue
            }
            command = pending + command
            pending = ""
            if !command.isEmpty && !command.hasPrefix("#") { commands.append(command) }
        }
        return commands
    }
}
