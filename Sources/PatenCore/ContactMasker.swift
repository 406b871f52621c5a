/// Hides customer contact data (email addresses, phone numbers, payment card numbers and IBANs) in text shown to
/// volunteers.
///
/// The masker is a hand-written scanner that reads the text once, not a set of regular expressions: an e-mail
/// pattern with nested quantifiers backtracks on text such as "a." repeated 30,000 times, and one 60 KB message then
/// cost 47 seconds of CPU on every volunteer view (docs/performance.md). Here every scalar is looked at a bounded
/// number of times, so a 60 KB message of any shape masks in a few milliseconds.
///
/// Characters are compared in their NFKC form where that changes what they are to the scanner: full-width and small
/// forms (`＠`, `．`, `０`, `ｍ`) are their ASCII letters, digits of every script and super- and subscript or
/// circled digits are digits, every whitespace character (line breaks included) or dash separates digit groups, and
/// format and default-ignorable characters (zero-width spaces, soft hyphens, Hangul fillers) and combining marks are
/// ignored. Each such character folds to a single scalar, so positions map back one to one and the volunteer sees the
/// text as written around the marks. A date or time is left readable only as a whole token at the start of a run of
/// digits, so a date-shaped part of a longer number is hidden with it.
public struct ContactMasker: Sendable {
    /// What replaces a hidden email address.
    public static let emailMark = "[email hidden]"
    /// What replaces a hidden phone number (and any other run of seven or more digits).
    public static let phoneMark = "[phone hidden]"
    /// What replaces a hidden IBAN.
    public static let accountMark = "[account hidden]"
    /// What replaces a hidden payment card number.
    public static let cardMark = "[card hidden]"

    /// Creates a masker.
    public init() {}

    /// The text with every contact detail replaced by a mark.
    public func mask(_ text: String) -> String {
        guard Self.mayHoldContactData(text) else { return text }
        var scan = ContactScan(text)
        scan.findEmails()
        scan.findNumbers()
        return scan.found.isEmpty ? text : scan.masked()
    }

    /// False when the text has no digit and no `@` of any form: nothing can match, so most subjects and replies
    /// return at once, without allocating.
    static func mayHoldContactData(_ text: String) -> Bool {
        var ascii = true
        for byte in text.utf8 {
            if byte >= 0x80 {
                ascii = false
            } else if byte == UInt8(ascii: "@") || (byte >= 0x30 && byte <= 0x39) {
                return true
            }
        }
        if ascii { return false }
        for scalar in text.unicodeScalars where !scalar.isASCII {
            if scalar.value == 0xFF20 || scalar.value == 0xFE6B || scalar.properties.numericType != nil { return true }
        }
        return false
    }
}
