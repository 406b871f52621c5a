import Crypto
import Foundation
import PatenCore

/// A Standard Webhooks signing secret: `whsec_` and the base64 of 24 to 64 random bytes.
public struct WebhookSecret: Sendable, Equatable {
    /// The text form, as shown to the integration's owner once.
    public let text: String
    /// The HMAC key.
    let key: SymmetricKey

    /// Reads a secret, refusing an empty, unprefixed, non-base64 or wrongly sized one.
    public init(_ text: String) throws {
        guard text.hasPrefix("whsec_") else {
            throw PatenError.unprocessable("invalid_secret", "A signing secret starts with 'whsec_'.")
        }
        let encoded = String(text.dropFirst("whsec_".count))
        guard !encoded.isEmpty, let bytes = Data(base64Encoded: encoded) else {
            throw PatenError.unprocessable("invalid_secret", "A signing secret is 'whsec_' and base64 text.")
        }
        guard (24...64).contains(bytes.count) else {
            throw PatenError.unprocessable(
                "invalid_secret", "A signing secret must decode to 24 to 64 bytes; this one has \(bytes.count)."
            )
        }
        self.init(text: text, bytes: bytes)
    }

    private init(text: String, bytes: Data) {
        self.text = text
        self.key = SymmetricKey(data: bytes)
    }

    /// A new secret of 32 random bytes from the system's secure generator.
    public static func generate() -> WebhookSecret {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return WebhookSecret(text: "whsec_" + bytes.base64EncodedString(), bytes: bytes)
    }

    public static func == (lhs: WebhookSecret, rhs: WebhookSecret) -> Bool { lhs.text == rhs.text }
}
