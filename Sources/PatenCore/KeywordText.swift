import Foundation

/// Text folded for keyword search: words of lowercase letters and digits, split at every run of other characters.
///
/// Diacritics are dropped (é is e), ß is ss, and ae, oe and ue fold to a, o and u like ä, ö and ü, so "Rückerstattung",
/// "Rueckerstattung" and "Ruckerstattung" are one word. Invisible format characters (zero-width spaces, soft
/// hyphens) are dropped without splitting the word they sit in; full-width and other compatibility forms are
/// read as their plain letters.
struct KeywordText {
    /// The folded bytes (UTF-8) of all words, one after another.
    let bytes: [UInt8]
    /// Each word's range in `bytes`, in order.
    let words: [Range<Int>]

    init(_ text: String) {
        var folder = Folder(capacity: text.utf8.count)
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            // Most questions are plain ASCII: fold byte by byte, without asking Unicode about each character.
            for byte in text.utf8 { folder.addASCII(byte) }
        } else {
            for scalar in text.unicodeScalars {
                if scalar.isASCII {
                    folder.addASCII(UInt8(scalar.value))
                } else {
                    folder.add(Self.foldings[scalar.value] ?? Self.fold(scalar))
                }
            }
        }
        folder.endWord()
        bytes = folder.bytes
        words = folder.words
    }

    /// The folded word at a position.
    func word(_ position: Int) -> ArraySlice<UInt8> { bytes[words[position]] }

    /// Letters whose plain form is not reached by dropping a combining mark.
    private static let spelled: [UInt32: String] = [
        0xDF: "ss", 0x142: "l", 0x131: "i", 0xF8: "o", 0x111: "d", 0xE6: "ae", 0x153: "oe", 0xFE: "th", 0x127: "h",
    ]

    /// The folding of the non-ASCII characters questions in the policy's languages are written with (Latin,
    /// Greek, Cyrillic, general punctuation, full-width forms), worked out once: Unicode lowercasing and
    /// decomposition per character cost more than the rest of classification.
    private static let foldings: [UInt32: [UInt8]] = {
        var table: [UInt32: [UInt8]] = [:]
        for range in [0x80..<0x530, 0x1E00..<0x1F00, 0x2000..<0x2070, 0xFF00..<0xFFF0] {
            for value in range {
                if let scalar = Unicode.Scalar(UInt32(value)) { table[UInt32(value)] = fold(scalar) }
            }
        }
        return table
    }()

    /// One non-ASCII character folded: the bytes to add to the current word, with a space where it splits words.
    /// Empty for a character that is dropped without splitting (a combining mark, a zero-width space).
    private static func fold(_ scalar: Unicode.Scalar) -> [UInt8] {
        if let spelling = spelled[scalar.value] { return Array(spelling.utf8) }
        var out: [UInt8] = []
        for part in String(scalar).lowercased().decomposedStringWithCompatibilityMapping.unicodeScalars {
            if part.isASCII {
                let byte = UInt8(part.value)
                switch byte {
                case 0x61...0x7A, 0x30...0x39: out.append(byte)
                case 0x41...0x5A: out.append(byte + 0x20)
                default: out.append(0x20)
                }
            } else if let spelling = spelled[part.value] {
                out += Array(spelling.utf8)
            } else {
                switch part.properties.generalCategory {
                case .nonspacingMark, .spacingMark, .enclosingMark, .format:
                    continue
                case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .decimalNumber,
                    .letterNumber, .otherNumber:
                    UTF8.encode(part) { out.append($0) }
                default:
                    out.append(0x20)
                }
            }
        }
        return out
    }

    /// Builds the folded words, one character at a time.
    private struct Folder {
        var bytes: [UInt8] = []
        var words: [Range<Int>] = []
        var wordStart = 0

        init(capacity: Int) {
            bytes.reserveCapacity(capacity)
        }

        mutating func addASCII(_ byte: UInt8) {
            switch byte {
            case 0x61...0x7A, 0x30...0x39: addLetter(byte)
            case 0x41...0x5A: addLetter(byte + 0x20)
            default: endWord()
            }
        }

        /// Adds a folded non-ASCII character: its bytes, a space meaning a split between words.
        mutating func add(_ folded: [UInt8]) {
            for byte in folded {
                if byte == 0x20 { endWord() } else { addLetter(byte) }
            }
        }

        mutating func addLetter(_ byte: UInt8) {
            // "ae", "oe" and "ue" are how ä, ö and ü are typed without umlauts; the umlauts themselves lost their
            // marks, so dropping the e makes all three spellings one.
            if byte == UInt8(ascii: "e"), bytes.count > wordStart, let last = bytes.last,
                last == UInt8(ascii: "a") || last == UInt8(ascii: "o") || last == UInt8(ascii: "u")
            {
                return
            }
            bytes.append(byte)
        }

        mutating func endWord() {
            if bytes.count > wordStart { words.append(wordStart..<bytes.count) }
            wordStart = bytes.count
        }
    }
}

/// A policy keyword ready to look for: its folded words, each matched whole or, written with `*` before or after
/// it, as the end, the start or any part of a word.
struct KeywordPattern: Hashable, Sendable {
    /// One word of a keyword.
    struct Word: Hashable, Sendable {
        var bytes: [UInt8]
        /// Written with a leading `*`: letters may come before it ("*rechnung" matches "Monatsrechnung").
        var openStart = false
        /// Written with a trailing `*`: letters may follow it ("abbuch*" matches "Abbuchung").
        var openEnd = false

        /// Whether a folded word of a text is this word, or ends with, starts with or contains it as the `*`s say.
        func matches(_ word: ArraySlice<UInt8>) -> Bool {
            switch (openStart, openEnd) {
            case (false, false): return word.elementsEqual(bytes)
            case (false, true): return word.starts(with: bytes)
            case (true, false): return word.count >= bytes.count && word.suffix(bytes.count).elementsEqual(bytes)
            case (true, true):
                // Only a phrase's later words come here, after its first word matched; the first words are found by
                // `KeywordIndex` in one pass. A word is short, so the plain search costs little.
                guard word.count >= bytes.count else { return false }
                var start = word.startIndex
                while start + bytes.count <= word.endIndex {
                    if word[start..<start + bytes.count].elementsEqual(bytes) { return true }
                    start += 1
                }
                return false
            }
        }

        /// The number of letters (Unicode scalars) in the folded word.
        var letterCount: Int { String(decoding: bytes, as: UTF8.self).unicodeScalars.count }
    }

    /// Fewest folded letters before a trailing `*`: a shorter prefix matches too many unrelated words.
    static let shortestPrefix = 3
    /// Fewest folded letters after a leading `*`: a short stem occurs inside too many unrelated words.
    static let shortestStem = 4

    let words: [Word]

    /// Parses a keyword as the policy writes it; the error says what is wrong in words for the policy's author.
    init(_ keyword: String) throws(KeywordProblem) {
        var words: [Word] = []
        for token in keyword.split(whereSeparator: \.isWhitespace) {
            if token.allSatisfy({ $0 == "*" }) {
                throw KeywordProblem(
                    "a lone '*' would match every word; write at least \(Self.shortestPrefix) letters before it, such as \"abbuch*\""
                )
            }
            let openStart = token.first == "*"
            let openEnd = token.last == "*"
            let stem = token.dropFirst(openStart ? 1 : 0).dropLast(openEnd ? 1 : 0)
            if stem.contains("*") {
                throw KeywordProblem(
                    "'\(token)': '*' may only start or end a word, once each, as in \"abbuch*\", \"*rechnung\" or \"*betrug*\""
                )
            }
            let folded = KeywordText(String(stem))
            guard !folded.words.isEmpty else { throw KeywordProblem("'\(token)' has no letters or digits") }
            let first = words.count
            words += folded.words.map { Word(bytes: Array(folded.bytes[$0])) }
            // Punctuation inside a token splits it into words, as it does in a text: the `*`s belong to the outer ones.
            words[first].openStart = openStart
            words[words.count - 1].openEnd = openEnd
            if openStart, words[first].letterCount < Self.shortestStem {
                throw KeywordProblem(
                    "'\(token)': write at least \(Self.shortestStem) letters after a leading '*', or it matches inside too many words"
                )
            }
            if openEnd, !openStart || words.count - first > 1, words[words.count - 1].letterCount < Self.shortestPrefix {
                throw KeywordProblem(
                    "'\(token)': write at least \(Self.shortestPrefix) letters before the '*', or it matches too many words"
                )
            }
        }
        guard !words.isEmpty else { throw KeywordProblem("the keyword is empty") }
        self.words = words
    }
}

/// What is wrong with a policy keyword.
struct KeywordProblem: Error {
    let message: String

    init(_ message: String) {
        self.message = message
    }
}
