import Foundation

/// Text folded for whole-word keyword search: lowercase words, split at every run of non-alphanumerics.
struct KeywordText {
    /// The folded words in order, and the same words as a set for the first-word test.
    private let words: [Substring]
    private let vocabulary: Set<Substring>

    init(_ text: String) {
        words = Self.fold(text).split(separator: " ")
        vocabulary = Set(words)
    }

    /// A keyword (a word or phrase) folded the same way, ready to look for.
    struct Needle: Sendable {
        let words: [Substring]

        init(_ keyword: String) {
            words = KeywordText.fold(keyword).split(separator: " ")
        }
    }

    /// Whether the folded keyword occurs as whole words. A set lookup settles most keywords: only a phrase whose
    /// first word occurs is looked for word by word.
    func contains(_ needle: Needle) -> Bool {
        let needle = needle.words
        guard let first = needle.first, vocabulary.contains(first) else { return false }
        if needle.count == 1 { return true }
        guard words.count >= needle.count else { return false }
        for start in 0...(words.count - needle.count) where words[start] == first {
            if needle.indices.allSatisfy({ words[start + $0] == needle[$0] }) { return true }
        }
        return false
    }

    fileprivate static func fold(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return foldASCII(text) }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for character in text.lowercased() {
            if character.isLetter || character.isNumber {
                if pendingSpace && !out.isEmpty { out.append(" ") }
                pendingSpace = false
                out.append(character)
            } else {
                pendingSpace = true
            }
        }
        return out
    }

    /// The same folding for ASCII text, byte by byte: most questions are plain ASCII, and asking Unicode about
    /// each Character costs more than the rest of classification.
    private static func foldASCII(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for byte in text.utf8 {
            let isLetter = (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A)
            if isLetter || (byte >= 0x30 && byte <= 0x39) {
                if pendingSpace && !out.isEmpty { out.append(0x20) }
                pendingSpace = false
                out.append(byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte)
            } else {
                pendingSpace = true
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
