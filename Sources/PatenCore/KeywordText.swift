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

    /// Whether the keyword (a word or phrase) occurs as whole words. A set lookup settles most keywords: only a
    /// phrase whose first word occurs is looked for word by word.
    func contains(_ keyword: String) -> Bool {
        let needle = Self.fold(keyword).split(separator: " ")
        guard let first = needle.first, vocabulary.contains(first) else { return false }
        if needle.count == 1 { return true }
        guard words.count >= needle.count else { return false }
        for start in 0...(words.count - needle.count) where words[start] == first {
            if needle.indices.allSatisfy({ words[start + $0] == needle[$0] }) { return true }
        }
        return false
    }

    private static func fold(_ text: String) -> String {
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
}
