import Foundation

/// Hides customer contact data (email addresses, phone numbers, IBAN-like account numbers) in text shown to
/// volunteers.
///
/// `@unchecked Sendable` is safe: the only stored state is NSRegularExpression values, which Foundation
/// documents as immutable and thread-safe.
public final class ContactMasker: @unchecked Sendable {
    /// What replaces a hidden email address.
    public static let emailMark = "[email hidden]"
    /// What replaces a hidden phone number.
    public static let phoneMark = "[phone hidden]"
    /// What replaces a hidden account number.
    public static let accountMark = "[account hidden]"

    private let account: NSRegularExpression
    private let email: NSRegularExpression
    private let phone: NSRegularExpression
    private let isoDate: NSRegularExpression

    /// Creates a masker.
    public init() {
        // The patterns are constants; a failure here is a programming error caught by every test run.
        account = Self.compile(#"(?i)\b[A-Z]{2}[0-9]{2}(?:[ \-]?[A-Z0-9]{4}){2,7}(?:[ \-]?[A-Z0-9]{1,3})?\b"#)
        email = Self.compile(#"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"#)
        phone = Self.compile(#"(?<![\w+(])(?:\+|\()?\d(?:[ ().\-/]{0,3}\d){6,14}(?![\w])"#)
        isoDate = Self.compile(#"^\d{4}-\d{2}-\d{2}$"#)
    }

    /// The text with every contact detail replaced by a mark.
    public func mask(_ text: String) -> String {
        // Each pattern needs some digits or an @: text without them (most subjects) skips the regular expressions.
        // (`\d` in the phone pattern matches any script's decimal digits, so those are counted too.)
        var digits = 0
        var at = false
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                if scalar.value >= 0x30 && scalar.value <= 0x39 {
                    digits += 1
                } else if scalar == "@" {
                    at = true
                }
            } else if scalar.properties.numericType == .decimal {
                digits += 1
            }
        }
        var result = text
        if digits >= 2 { result = replace(account, in: result, with: Self.accountMark) }
        if at { result = replace(email, in: result, with: Self.emailMark) }
        guard digits >= 7 else { return result }
        return replace(phone, in: result, with: Self.phoneMark) { candidate in
            // Dates look like digit groups; they are not contact data.
            isoDate.firstMatch(in: candidate, range: NSRange(candidate.startIndex..., in: candidate)) == nil
        }
    }

    private func replace(
        _ pattern: NSRegularExpression, in text: String, with mark: String,
        when accept: (String) -> Bool = { _ in true }
    ) -> String {
        let matches = pattern.matches(in: text, range: NSRange(text.startIndex..., in: text))
        guard !matches.isEmpty else { return text }
        var result = text
        for match in matches.reversed() {
            guard let range = Range(match.range, in: result), accept(String(result[range])) else { continue }
            result.replaceSubrange(range, with: mark)
        }
        return result
    }

    private static func compile(_ pattern: String) -> NSRegularExpression {
        do {
            return try NSRegularExpression(pattern: pattern)
        } catch {
            preconditionFailure("invalid built-in pattern \(pattern): \(error)")
        }
    }
}
