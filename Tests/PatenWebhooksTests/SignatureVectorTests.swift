import Foundation
import PatenCore
import Testing

@testable import PatenWebhooks

/// The published vectors of shared/webhooks/VECTORS.md.
@Suite("Standard Webhooks v1 vectors")
struct StandardWebhookVectorTests {
    static let secretA = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let idA = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let timestampA: Int64 = 1_614_265_330
    static let bodyA = Data(#"{"test": 2432232314}"#.utf8)
    static let expectedA = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    let now = Date(timeIntervalSince1970: 1_614_265_330)

    func verify(
        _ signature: String?, timestamp: String? = "1614265330", secrets: [String] = [secretA], at now: Date? = nil
    )
        throws(WebhookRejection)
    {
        let parsed = secrets.compactMap { try? WebhookSecret($0) }
        try StandardWebhookSignature.verify(
            id: Self.idA, timestamp: timestamp, signature: signature, body: Self.bodyA, secrets: parsed, now: now ?? self.now
        )
    }

    @Test("Vector A and vector B are reproduced byte for byte")
    func signing() throws {
        let a = try WebhookSecret(Self.secretA)
        #expect(StandardWebhookSignature.sign(id: Self.idA, timestamp: Self.timestampA, body: Self.bodyA, secret: a) == Self.expectedA)
        let b = try WebhookSecret("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")
        let bodyB = Data(#"{"email":"test@example.com","username":"test_user"}"#.utf8)
        #expect(
            StandardWebhookSignature.sign(id: "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", timestamp: 1_649_367_553, body: bodyB, secret: b)
                == "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        )
    }

    @Test("Several secrets sign as entries joined by exactly one space")
    func header() throws {
        let a = try WebhookSecret(Self.secretA)
        let other = WebhookSecret.generate()
        let header = StandardWebhookSignature.header(id: Self.idA, timestamp: Self.timestampA, body: Self.bodyA, secrets: [a, other])
        #expect(header.hasPrefix(Self.expectedA + " v1,"))
        #expect(!header.contains("  "))
        #expect(header.split(separator: " ").count == 2)
    }

    @Test("The good signature is accepted, also among other entries and other version tags")
    func accepts() throws {
        try verify(Self.expectedA)
        let decoy = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
        try verify("\(decoy) v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= \(Self.expectedA) \(decoy)")
        try verify(Self.expectedA, secrets: ["whsec_" + Data(repeating: 7, count: 32).base64EncodedString(), Self.secretA])
        try verify(Self.expectedA, at: now.addingTimeInterval(300))
    }

    @Test(
        "Every bad case is rejected, never a crash",
        arguments: [
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=", "v1,", String(expectedA.prefix(8)),
            "v1g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "v1,a,b", "v1,not base64!!", "", "  ",
            "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "v1,\u{0}\u{1}",
        ]
    )
    func rejects(signature: String) {
        #expect(throws: WebhookRejection.noValidSignature) { try verify(signature) }
    }

    @Test("Double spaces between entries do not hide a good one")
    func doubleSpaces() throws {
        try verify("v1,abc  \(Self.expectedA)")
    }

    @Test("Stale and future timestamps, malformed timestamps and missing headers are rejected")
    func timestamps() {
        #expect(throws: WebhookRejection.staleTimestamp) { try verify(Self.expectedA, at: now.addingTimeInterval(301)) }
        #expect(throws: WebhookRejection.staleTimestamp) { try verify(Self.expectedA, at: now.addingTimeInterval(-301)) }
        #expect(throws: WebhookRejection.malformedTimestamp) { try verify(Self.expectedA, timestamp: "1614265330.5") }
        #expect(throws: WebhookRejection.malformedTimestamp) { try verify(Self.expectedA, timestamp: " 1614265330") }
        #expect(throws: WebhookRejection.malformedTimestamp) { try verify(Self.expectedA, timestamp: "99999999999999999999999") }
        #expect(throws: WebhookRejection.missingHeader) { try verify(nil) }
        #expect(throws: WebhookRejection.missingHeader) { try verify(Self.expectedA, timestamp: nil) }
    }

    /// Verifies with a MAC function that counts its runs; returns the rejection (nil when accepted) and the count.
    func countingMACs(
        _ signature: String, body: Data = bodyA, secrets: [String] = [secretA]
    ) -> (rejection: WebhookRejection?, macs: Int) {
        var macs = 0
        do {
            try StandardWebhookSignature.verify(
                id: Self.idA, timestamp: "1614265330", signature: signature, body: body,
                secrets: secrets.compactMap { try? WebhookSecret($0) }, now: now,
                authenticate: { content, secret in
                    macs += 1
                    return StandardWebhookSignature.hmac(content, secret)
                }
            )
            return (nil, macs)
        } catch {
            return (error, macs)
        }
    }

    @Test("1,600 entries over a 256 KiB body are refused before any MAC is computed")
    func entryFlood() {
        let body = Data(repeating: UInt8(ascii: "a"), count: 256 * 1024)
        let decoy = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
        let flood = Array(repeating: decoy, count: 1600).joined(separator: " ")
        #expect(countingMACs(flood, body: body) == (.oversizedSignature, 0))
        // Under the length cap but over the entry cap: still refused unread.
        let many = Array(repeating: "v1,x", count: StandardWebhookSignature.maxSignatureEntries + 1).joined(separator: " ")
        #expect(many.utf8.count <= StandardWebhookSignature.maxSignatureHeaderLength)
        #expect(countingMACs(many, body: body) == (.oversizedSignature, 0))
        let long = "v1," + String(repeating: "A", count: StandardWebhookSignature.maxSignatureHeaderLength)
        #expect(countingMACs(long, body: body) == (.oversizedSignature, 0))
    }

    @Test("Each secret's MAC is computed once, however many entries there are, and none without a v1 entry")
    func oneMACPerSecret() {
        let decoy = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
        let entries = Array(repeating: decoy, count: StandardWebhookSignature.maxSignatureEntries)
        let secrets = [Self.secretA, WebhookSecret.generate().text]
        #expect(countingMACs(entries.joined(separator: " "), secrets: secrets) == (.noValidSignature, 2))
        #expect(countingMACs((entries.dropLast() + [Self.expectedA]).joined(separator: " "), secrets: secrets) == (nil, 1))
        #expect(countingMACs("v2,abc v1,not-base64", secrets: secrets) == (.noValidSignature, 0))
    }

    @Test("MACs are compared by value over every byte")
    func constantTimeComparison() {
        #expect(StandardWebhookSignature.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!StandardWebhookSignature.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!StandardWebhookSignature.constantTimeEqual([9, 2, 3], [1, 2, 3]))
        #expect(!StandardWebhookSignature.constantTimeEqual([1, 2], [1, 2, 3]))
    }

    @Test("A wrong secret is rejected")
    func wrongSecret() {
        #expect(throws: WebhookRejection.noValidSignature) {
            try verify(Self.expectedA, secrets: [WebhookSecret.generate().text])
        }
    }

    @Test(
        "Secrets that are empty, unprefixed, not base64, or the wrong size are refused",
        arguments: [
            "", "whsec_", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_***",
            "whsec_" + Data(repeating: 1, count: 23).base64EncodedString(),
            "whsec_" + Data(repeating: 1, count: 65).base64EncodedString(),
        ]
    )
    func refusesSecret(text: String) {
        #expect(throws: PatenError.self) { try WebhookSecret(text) }
    }

    @Test("Secrets of 24 and 64 bytes are accepted; generated ones are 32 bytes")
    func secretSizes() throws {
        _ = try WebhookSecret("whsec_" + Data(repeating: 1, count: 24).base64EncodedString())
        _ = try WebhookSecret("whsec_" + Data(repeating: 1, count: 64).base64EncodedString())
        let generated = WebhookSecret.generate()
        #expect(Data(base64Encoded: String(generated.text.dropFirst(6)))?.count == 32)
        #expect(generated != WebhookSecret.generate())
    }
}

@Suite("Slack request signing v0 vectors")
struct SlackSignatureVectorTests {
    static let secret = "8f742231b10e8888abcd99yyyzzz85a5"
    static let timestamp: Int64 = 1_531_420_618
    static let body = Data(
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
            .utf8
    )
    static let expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    let now = Date(timeIntervalSince1970: 1_531_420_618)

    @Test("The vector is reproduced and verified")
    func vector() throws {
        #expect(SlackSignature.sign(timestamp: Self.timestamp, body: Self.body, secret: Self.secret) == Self.expected)
        try SlackSignature.verify(
            timestamp: "1531420618", signature: Self.expected, body: Self.body, secrets: ["other", Self.secret], now: now
        )
    }

    @Test("Tampering, staleness, bad formats and missing headers are rejected")
    func rejects() {
        func verify(
            _ signature: String?, _ timestamp: String? = "1531420618", at now: Date? = nil, body: Data = Self.body
        )
            throws(WebhookRejection)
        {
            try SlackSignature.verify(
                timestamp: timestamp, signature: signature, body: body, secrets: [Self.secret], now: now ?? self.now
            )
        }
        #expect(throws: WebhookRejection.noValidSignature) { try verify(Self.expected, body: Self.body + Data("x".utf8)) }
        #expect(throws: WebhookRejection.noValidSignature) { try verify("v0=" + String(repeating: "0", count: 64)) }
        #expect(throws: WebhookRejection.noValidSignature) { try verify(Self.expected.uppercased()) }
        #expect(throws: WebhookRejection.noValidSignature) { try verify("v0=zz") }
        #expect(throws: WebhookRejection.noValidSignature) { try verify(Self.expected + String(repeating: "0", count: 4096)) }
        #expect(throws: WebhookRejection.malformedTimestamp) { try verify(Self.expected, String(repeating: "1", count: 4096)) }
        #expect(throws: WebhookRejection.noValidSignature) { try verify("v1=" + Self.expected.dropFirst(3)) }
        #expect(throws: WebhookRejection.staleTimestamp) { try verify(Self.expected, at: now.addingTimeInterval(301)) }
        #expect(throws: WebhookRejection.malformedTimestamp) { try verify(Self.expected, "abc") }
        #expect(throws: WebhookRejection.missingHeader) { try verify(nil) }
    }
}
