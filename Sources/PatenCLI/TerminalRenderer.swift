import Foundation
import PatenCore

/// Human-readable output for the CLI: aligned tables, and text made safe for a terminal. Every string that came from
/// the server passes through `safe(_:multiline:)` before it reaches the terminal.
public enum TerminalRenderer {
    /// A table with a header row; columns are padded to their widest cell. Cells are made safe here.
    public static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows.map { $0.map { safe($0) } }
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// The API's JSON conventions for `--json`: snake_case keys, sorted, and RFC 3339 UTC times with milliseconds.
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.format(date))
        }
        return encoder
    }

    /// Any resource as JSON for `--json`, pretty unless it is one line of a stream; made safe for a terminal.
    public static func json(_ value: some Encodable, pretty: Bool = true) throws -> String {
        let encoder = encoder
        if pretty { encoder.outputFormatting.insert(.prettyPrinted) }
        return safeJSON(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// How long ago a time was, in its largest unit or two: `45s`, `12m`, `3h5m`, `2d`.
    public static func age(since date: Date, now: Date = Date()) -> String {
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        switch seconds {
        case ..<60: return "\(seconds)s"
        case ..<3600: return "\(seconds / 60)m"
        case ..<86400: return "\(seconds / 3600)h\((seconds % 3600) / 60)m"
        default: return "\(seconds / 86400)d"
        }
    }

    /// The text cut to `length` characters, the last one an ellipsis when cut.
    public static func clip(_ text: String, _ length: Int) -> String {
        text.count <= length ? text : String(text.prefix(length - 1)) + "…"
    }

    /// The start of a text on one line: whitespace runs, line breaks included, become one space; made safe.
    static func oneLine(_ text: String, _ length: Int) -> String {
        let words = text.split(whereSeparator: { $0.isWhitespace || $0.isNewline })
        return clip(safe(words.joined(separator: " ")), length)
    }
}

extension TerminalRenderer {
    /// Server-provided text made safe for a terminal. Control characters (C0 but the line break, DEL and C1) show as
    /// their visible pictures (`␛`, `␇`, `␈`, `␍`) or as `<U+009B>`, so customer text cannot move the cursor, clear
    /// the screen, retitle the window, plant an OSC 8 link or overwrite a line; bidirectional overrides and isolates
    /// show as `<U+202E>`, so it cannot reorder what the helper reads. A tab is a space. Line breaks are kept when
    /// `multiline` (message bodies; a CR LF is one break) and show as `␤` elsewhere, so a subject cannot fake lines.
    public static func safe(_ text: String, multiline: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { isUnsafe($0) }) else { return text }
        var result = String.UnicodeScalarView()
        // A CR is held back: right before a line break in a body it is part of the break.
        var carriageReturn = false
        for scalar in text.unicodeScalars {
            if carriageReturn, !(multiline && scalar == "\n") { result.append("\u{240D}") }
            carriageReturn = false
            switch scalar.value {
            case 0x0D: carriageReturn = true
            case 0x0A: result.append(multiline ? scalar : "\u{2424}")
            case 0x09: result.append(" ")
            case 0x00..<0x20: result.append(Unicode.Scalar(0x2400 + scalar.value) ?? "?")
            case 0x7F: result.append("\u{2421}")
            case 0x80...0x9F, 0x202A...0x202E, 0x2066...0x2069:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                result.append(contentsOf: "<U+\(String(repeating: "0", count: 4 - hex.count))\(hex)>".unicodeScalars)
            default: result.append(scalar)
            }
        }
        if carriageReturn { result.append("\u{240D}") }
        return String(result)
    }

    /// JSON text with every character a terminal could act on written as a `\u` escape. Such characters can only
    /// stand inside JSON strings, where the escape means the same character, so the document is unchanged.
    public static func safeJSON(_ json: String) -> String {
        guard json.unicodeScalars.contains(where: { isUnsafe($0) && $0 != "\n" }) else { return json }
        var result = String.UnicodeScalarView()
        for scalar in json.unicodeScalars {
            if isUnsafe(scalar), scalar != "\n" {
                let hex = String(scalar.value, radix: 16)
                result.append(contentsOf: "\\u\(String(repeating: "0", count: 4 - hex.count))\(hex)".unicodeScalars)
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }

    private static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00..<0x20, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
