// Writes a fitted learning-rate rule into a TOML sweep config's [lr] table in place: only the
// values of `intercept`, `width` and `steps` change; comments, order and every other byte stay.
import Foundation

public enum LRRuleWriter {
    /// `text` with `[lr]`'s intercept, width and steps set to the given values (written with three
    /// decimals, as the configs carry them). A key missing from the table is added after its last
    /// key; a config without an `[lr]` table gets one at the end. `file` names the config in errors.
    public static func write(intercept: Double, width: Double, steps: Double, into text: String, file: String) throws -> String {
        let values = [("intercept", intercept), ("width", width), ("steps", steps)]
        for (key, v) in values where !v.isFinite {
            throw ConfigError.badValue(file: file, key: "lr.\(key)", message: "\(v) is not finite; nothing written")
        }
        var lines = splitLines(text)
        let newline = text.contains("\r\n") ? "\r\n" : "\n"

        func keyOf(_ line: String) -> String? {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard let eq = t.firstIndex(of: "="), !t.hasPrefix("#") else { return nil }
            return t[..<eq].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
        }
        let formatted = { (v: Double) in String(format: "%.3f", v) }

        // Where [lr] starts and ends; `lr = {...}` or dotted `lr.x` keys are refused (rare, and
        // rewriting them in place is not worth the risk).
        var start: Int?
        var end = lines.count
        var table = ""
        for (i, line) in lines.enumerated() {
            if let h = header(line) {
                if start != nil, end == lines.count { end = i }
                table = h
                if h == "lr" { start = i }
            } else if table.isEmpty, let k = keyOf(line), k == "lr" || k.hasPrefix("lr.") {
                throw ConfigError.badValue(file: file, key: "lr", message: "is written inline; --write edits an [lr] table only")
            }
        }
        guard let start else {
            var out = text
            if !out.isEmpty, !endsLine(out) { out += newline }
            out += newline + "[lr]" + newline + values.map { "\($0.0) = \(formatted($0.1))" + newline }.joined()
            return out
        }
        var lastKey = start
        var missing = values
        for i in (start + 1)..<end {
            guard let key = keyOf(lines[i]) else { continue }
            lastKey = i
            guard let k = missing.firstIndex(where: { $0.0 == key }) else { continue }
            lines[i] = try replaceValue(in: lines[i], with: formatted(missing[k].1), key: "lr.\(key)", file: file)
            missing.remove(at: k)
        }
        let added = missing.map { "\($0.0) = \(formatted($0.1))" + newline }
        if !added.isEmpty {
            if !endsLine(lines[lastKey]) { lines[lastKey] += newline }
            lines.insert(contentsOf: added, at: lastKey + 1)
        }
        return lines.joined()
    }

    /// `write`, checked: `text` must decode as a sweep config, and the result must decode to
    /// the same config but for the rule, which must read back as the values (to the three
    /// decimals written). A rewrite that would change anything else is refused.
    public static func writeChecked(intercept: Double, width: Double, steps: Double, into text: String, file: String) throws -> String {
        let before = try ConfigDecoder.decode(SweepConfig.self, fromTOML: text, file: file)
        let out = try write(intercept: intercept, width: width, steps: steps, into: text, file: file)
        var after = try ConfigDecoder.decode(SweepConfig.self, fromTOML: out, file: file)
        let rule = [after.lr.intercept - intercept, after.lr.width - width, after.lr.steps - steps]
        (after.lr.intercept, after.lr.width, after.lr.steps) = (before.lr.intercept, before.lr.width, before.lr.steps)
        // Described, not compared with ==, so that a NaN somewhere equals itself.
        guard rule.allSatisfy({ abs($0) < 6e-4 }), "\(after)" == "\(before)" else {
            throw ConfigError.badValue(file: file, key: "lr", message: "cannot be rewritten in place without changing more than the rule; nothing written")
        }
        return out
    }

    /// The lines of `text` with their terminators, so joining them gives back `text` exactly.
    static func splitLines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = ""
        for ch in text {
            current.append(ch)
            if ch == "\n" || ch == "\r\n" {
                lines.append(current)
                current = ""
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    /// The name of the table a `[name]` (or `[[name]]`) header line opens, or nil.
    static func header(_ line: String) -> String? {
        let t = line.trimmingCharacters(in: .whitespacesAndNewlines)
        guard t.hasPrefix("["), let close = t.firstIndex(of: "]") else { return nil }
        let rest = t[t.index(after: close)...].trimmingCharacters(in: .whitespaces)
        guard rest.isEmpty || rest.hasPrefix("#") || rest.hasPrefix("]") else { return nil }
        return t[t.index(after: t.startIndex)..<close].trimmingCharacters(in: CharacterSet(charactersIn: "[ \t"))
    }

    /// The lines of `text`'s `[lr]` table, its header included (nil when it has none), to tell
    /// whether the table changed between two readings of a file.
    public static func lrTable(in text: String) -> String? {
        var table: String?
        var inside = false
        for line in splitLines(text) {
            if let h = header(line) { inside = h == "lr" }
            if inside { table = (table ?? "") + line }
        }
        return table
    }

    /// Whether text ends with a line break ("\r\n" is one Character in Swift, not ending in "\n").
    static func endsLine(_ s: String) -> Bool { s.hasSuffix("\n") || s.hasSuffix("\r\n") }

    /// The line with its value (the number after `=`, up to spaces, a comment or the line's end)
    /// replaced; a value that is not a plain number is an error.
    static func replaceValue(in line: String, with value: String, key: String, file: String) throws -> String {
        guard let eq = line.firstIndex(of: "=") else { return line }
        var i = line.index(after: eq)
        while i < line.endIndex, line[i] == " " || line[i] == "\t" { i = line.index(after: i) }
        var j = i
        while j < line.endIndex, "+-0123456789._eE".contains(line[j]) { j = line.index(after: j) }
        let old = line[i..<j].replacingOccurrences(of: "_", with: "")
        guard !old.isEmpty, Double(old) != nil else {
            throw ConfigError.badValue(file: file, key: key, message: "holds \(String(line[i...]).trimmingCharacters(in: .whitespacesAndNewlines)), not a number; nothing written")
        }
        return String(line[..<i]) + value + String(line[j...])
    }
}
