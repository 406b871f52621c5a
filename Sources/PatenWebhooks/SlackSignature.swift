import Crypto
import Foundation

/// Slack request signing v0: HMAC-SHA256 over `v0:{timestamp}:{body}` keyed by the signing secret's text, sent as
/// `X-Slack-Signature: v0=<lowercase hex>`.
public enum SlackSignature {
    /// The `X-Slack-Signature` value for the exact body bytes.
    public static func sign(timestamp: Int64, body: some DataProtocol, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: signedContent(timestamp: timestamp, body: body), using: SymmetricKey(data: Data(secret.utf8))
        )
        return "v0=" + mac.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
    }

    /// The length of a `v0=` signature: the prefix and 64 hex digits. Any other length is refused unread.
    static let signatureLength = 3 + 2 * SHA256.byteCount

    /// Checks a received request against any of the signing secrets, in constant time, within 300 s of `now`.
    /// A signature of the wrong length is refused before any MAC is computed; each secret's MAC is computed once.
    public static func verify(
        timestamp: String?, signature: String?, body: some DataProtocol, secrets: [String], now: Date
    ) throws(WebhookRejection) {
        guard let timestamp, let signature else { throw .missingHeader }
        guard timestamp.utf8.count <= 20, !timestamp.isEmpty, timestamp.allSatisfy(\.isASCIIDigit),
            let seconds = Int64(timestamp)
        else {
            throw .malformedTimestamp
        }
        guard abs(Double(seconds) - now.timeIntervalSince1970) <= StandardWebhookSignature.tolerance else {
            throw .staleTimestamp
        }
        guard signature.utf8.count == signatureLength, signature.hasPrefix("v0="), let received = hexBytes(signature.dropFirst(3)),
            received.count == SHA256.byteCount
        else { throw .noValidSignature }
        let content = signedContent(timestamp: seconds, body: body)
        for secret in secrets
        where HMAC<SHA256>.isValidAuthenticationCode(
            received, authenticating: content, using: SymmetricKey(data: Data(secret.utf8))
        ) {
            return
        }
        throw .noValidSignature
    }

    static func signedContent(timestamp: Int64, body: some DataProtocol) -> Data {
        var content = Data("v0:\(timestamp):".utf8)
        content.append(contentsOf: body)
        return content
    }

    static func hexBytes(_ text: Substring) -> Data? {
        guard text.count % 2 == 0 else { return nil }
        var bytes = Data(capacity: text.count / 2)
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
