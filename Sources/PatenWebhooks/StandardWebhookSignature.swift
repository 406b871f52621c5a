import Crypto
import Foundation

/// Why a webhook was refused. Callers answer every case with the same 401; the case is for logs only.
public enum WebhookRejection: Error, Equatable, Sendable {
    case missingHeader
    case malformedTimestamp
    case staleTimestamp
    case noValidSignature
}

/// Standard Webhooks v1 signing: HMAC-SHA256 over `{id}.{timestamp}.{body}`, sent as space-separated `v1,<base64>`
/// entries in `webhook-signature`.
public enum StandardWebhookSignature {
    /// How far a timestamp may be from now, either way.
    public static let tolerance: TimeInterval = 300

    /// One `v1,<base64 mac>` entry for the exact body bytes.
    public static func sign(id: String, timestamp: Int64, body: some DataProtocol, secret: WebhookSecret) -> String {
        "v1," + Data(mac(id: id, timestamp: timestamp, body: body, key: secret.key)).base64EncodedString()
    }

    /// The `webhook-signature` header value: one entry per secret, joined by exactly one space.
    public static func header(id: String, timestamp: Int64, body: some DataProtocol, secrets: [WebhookSecret]) -> String {
        secrets.map { sign(id: id, timestamp: timestamp, body: body, secret: $0) }.joined(separator: " ")
    }

    /// Checks a received webhook: the timestamp is integer seconds within the tolerance of `now`, and some `v1`
    /// entry matches some secret (compared in constant time). Entries with other version tags are ignored.
    public static func verify(
        id: String?, timestamp: String?, signature: String?, body: some DataProtocol, secrets: [WebhookSecret],
        now: Date
    ) throws(WebhookRejection) {
        guard let id, !id.isEmpty, let timestamp, let signature else { throw .missingHeader }
        guard !timestamp.isEmpty, timestamp.allSatisfy(\.isASCIIDigit), let seconds = Int64(timestamp) else {
            throw .malformedTimestamp
        }
        guard abs(Double(seconds) - now.timeIntervalSince1970) <= tolerance else { throw .staleTimestamp }
        let content = signedContent(id: id, timestamp: seconds, body: body)
        for entry in signature.split(separator: " ", omittingEmptySubsequences: true) {
            let parts = entry.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == "v1", let received = Data(base64Encoded: String(parts[1])),
                received.count == SHA256.byteCount
            else { continue }
            for secret in secrets
            where HMAC<SHA256>.isValidAuthenticationCode(received, authenticating: content, using: secret.key) {
                return
            }
        }
        throw .noValidSignature
    }

    static func mac(id: String, timestamp: Int64, body: some DataProtocol, key: SymmetricKey) -> HashedAuthenticationCode<SHA256> {
        HMAC<SHA256>.authenticationCode(for: signedContent(id: id, timestamp: timestamp, body: body), using: key)
    }

    static func signedContent(id: String, timestamp: Int64, body: some DataProtocol) -> Data {
        var content = Data("\(id).\(timestamp).".utf8)
        content.append(contentsOf: body)
        return content
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
