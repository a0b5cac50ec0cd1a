// The JSON text that every target writes by hand (safetensors headers, tokenizer.json, exports),
// the form of the JSON files it encodes, and the one line for a JSON file that does not decode.
import Foundation

/// `s` as a JSON string literal, quotes included (RFC 8259, section 7): `"` and `\` escaped,
/// newline, carriage return and tab as `\n`, `\r`, `\t`, the other control characters below
/// U+0020 as `\u00XX`; everything else, non-ASCII included, as itself in UTF-8.
public func jsonQuoted(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
        default: out.unicodeScalars.append(u)
        }
    }
    return out + "\""
}

/// `value` as indented JSON with sorted keys, as the files beside the data are written: the same
/// value always gives the same bytes.
public func sortedJSON<T: Encodable>(_ value: T) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try encoder.encode(value)
}

/// One line for a decoding error: the key path (dotted, "top level" for the root) and what was
/// wrong there.
public func describeDecodingError(_ e: DecodingError) -> String {
    func path(_ p: [CodingKey]) -> String { p.isEmpty ? "top level" : p.map(\.stringValue).joined(separator: ".") }
    switch e {
    case .keyNotFound(let key, let ctx): return "missing key '\(path(ctx.codingPath + [key]))'"
    case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx): return "wrong type at '\(path(ctx.codingPath))': \(ctx.debugDescription)"
    case .dataCorrupted(let ctx):
        // JSONDecoder reports a number it cannot represent as "not valid JSON"; its underlying
        // error names the value.
        let detail = (ctx.underlyingError as? NSError)?.userInfo[NSDebugDescriptionErrorKey] as? String
        return "bad value at '\(path(ctx.codingPath))': \(detail ?? ctx.debugDescription)"
    @unknown default: return "\(e)"
    }
}
