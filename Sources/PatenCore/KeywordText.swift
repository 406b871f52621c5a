import Foundation

/// Text folded for whole-word keyword search: lowercase, every run of non-alphanumerics a single space.
struct KeywordText {
    private let folded: String

    init(_ text: String) {
        folded = " " + Self.fold(text) + " "
    }

    /// Whether the keyword (a word or phrase) occurs as whole words.
    func contains(_ keyword: String) -> Bool {
        let needle = Self.fold(keyword)
        return !needle.isEmpty && folded.contains(" " + needle + " ")
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
