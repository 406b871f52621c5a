/// JSON string literals written directly, for the hot paths that write JSON by hand (event data, exports).
public enum JSONText {
    /// The text as a quoted JSON string, escaping quotes, backslashes and control characters, and the line and
    /// paragraph separators U+2028 and U+2029 (valid in JSON, but line breaks to some readers: a log line must stay
    /// one line).
    public static func quoted(_ text: String) -> String {
        // Most text needs no escape at all: copy it whole (0xE2 leads the UTF-8 of U+2028 and U+2029).
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0xE2 }) {
            return "\"" + text + "\""
        }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension JSONText {
    /// The error for text holding the NUL character, which PostgreSQL cannot store: refused on every database alike.
    public static let nulRefused = PatenError.malformed(
        "invalid_text", "Text may not contain the NUL character (\\u0000); remove it and send again."
    )

    /// Whether a JSON document holds a NUL character in a string: the escape `\u0000` (an escaped backslash
    /// followed by `u0000` is ordinary text) or a raw zero byte.
    public static func containsNUL(_ json: some Collection<UInt8>) -> Bool {
        var index = json.startIndex
        while index != json.endIndex {
            let byte = json[index]
            if byte == 0 { return true }
            if byte == UInt8(ascii: "\\") {
                let next = json.index(after: index)
                guard next != json.endIndex else { return false }
                if json[next] == UInt8(ascii: "u") {
                    let digits = json[json.index(after: next)...].prefix(4)
                    if digits.count == 4, digits.allSatisfy({ $0 == UInt8(ascii: "0") }) { return true }
                }
                // Skip the escaped character, so `\\` never starts another escape.
                index = json.index(after: next)
                continue
            }
            index = json.index(after: index)
        }
        return false
    }

    /// Whether a request target holds a percent-encoded NUL (`%00`).
    public static func containsEncodedNUL(_ target: String) -> Bool {
        target.utf8.indices.contains { target.utf8[$0...].starts(with: "%00".utf8) }
    }
}
