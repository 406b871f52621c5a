import Crypto
import Foundation

/// Why a webhook was refused. Callers answer every case with the same 401; the case is for logs only.
public enum WebhookRejection: Error, Equatable, Sendable {
    case missingHeader
    case malformedTimestamp
    case staleTimestamp
    case noValidSignature
    /// The signature header is longer, or has more entries, than any honest sender writes.
    case oversizedSignature
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

    /// Longest `webhook-signature` header taken, in bytes: room for 16 entries of every known version tag.
    public static let maxSignatureHeaderLength = 4096
    /// Most entries (of any version tag) one `webhook-signature` header may hold; a sender signs once per active
    /// secret, so a handful is plenty.
    public static let maxSignatureEntries = 16

    /// Checks a received webhook: the timestamp is integer seconds within the tolerance of `now`, and some `v1`
    /// entry matches some secret (compared in constant time). Entries with other version tags are ignored.
    ///
    /// A header longer than `maxSignatureHeaderLength` or with more than `maxSignatureEntries` entries is refused
    /// before any MAC is computed, and each secret's MAC is computed at most once, whatever the number of entries:
    /// an unsigned request costs at most one HMAC of its body per secret.
    public static func verify(
        id: String?, timestamp: String?, signature: String?, body: some DataProtocol, secrets: [WebhookSecret],
        now: Date
    ) throws(WebhookRejection) {
        try verify(
            id: id, timestamp: timestamp, signature: signature, body: body, secrets: secrets, now: now,
            authenticate: hmac
        )
    }

    /// `verify` with the MAC function given, so tests can count how often it runs.
    static func verify(
        id: String?, timestamp: String?, signature: String?, body: some DataProtocol, secrets: [WebhookSecret],
        now: Date, authenticate: (Data, WebhookSecret) -> [UInt8]
    ) throws(WebhookRejection) {
        guard let id, !id.isEmpty, let timestamp, let signature else { throw .missingHeader }
        guard timestamp.utf8.count <= 20, !timestamp.isEmpty, timestamp.allSatisfy(\.isASCIIDigit),
            let seconds = Int64(timestamp)
        else {
            throw .malformedTimestamp
        }
        guard abs(Double(seconds) - now.timeIntervalSince1970) <= tolerance else { throw .staleTimestamp }
        guard signature.utf8.count <= maxSignatureHeaderLength else { throw .oversizedSignature }
        let entries = signature.utf8.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
        guard entries.count <= maxSignatureEntries else { throw .oversizedSignature }
        let received: [[UInt8]] = entries.compactMap { entry in
            let parts = entry.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0].elementsEqual("v1".utf8),
                let mac = Data(base64Encoded: Data(parts[1])), mac.count == SHA256.byteCount
            else { return nil }
            return Array(mac)
        }
        guard !received.isEmpty else { throw .noValidSignature }
        let content = signedContent(id: id, timestamp: seconds, body: body)
        for secret in secrets {
            let expected = authenticate(content, secret)
            if received.contains(where: { constantTimeEqual($0, expected) }) { return }
        }
        throw .noValidSignature
    }

    /// The HMAC-SHA256 of signed content under a secret.
    static func hmac(_ content: Data, _ secret: WebhookSecret) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: content, using: secret.key))
    }

    /// Whether two MACs are equal, looking at every byte whatever differs, so timing tells nothing about the prefix.
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
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
