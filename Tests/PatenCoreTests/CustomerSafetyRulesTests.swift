import Foundation
import PatenCore
import Testing

/// Rules that keep a customer's question, link and data from strangers: decided in Core, tested without a database.
@Suite("Customer safety rules")
struct CustomerSafetyRulesTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    func helper(_ id: String, _ role: Role) -> Helper {
        Helper(
            id: id, handle: id, displayName: id, role: role, skills: [], languages: [], capacity: 3,
            presence: .available, active: true, createdAt: now, updatedAt: now
        )
    }

    func question(
        channel: String = "api", state: QuestionState = .claimed, holder: String? = "h_vol", answered: Bool = false
    ) -> Question {
        Question(
            id: "q_1", subject: "Roaming", customer: Customer(id: "c", name: "Ann"), channel: channel, topic: "roaming",
            language: "en", priority: .normal, tier: .volunteer, state: state, holderId: holder,
            leaseExpiresAt: holder == nil ? nil : now.addingTimeInterval(600),
            firstResponseAt: answered ? now.addingTimeInterval(-60) : nil, resolvedAt: state == .resolved ? now : nil,
            createdBy: "h_staff", createdAt: now.addingTimeInterval(-3600), updatedAt: now
        )
    }

    @Test("A volunteer resolves only after a helper reply; staff and admins may resolve unanswered with a note")
    func resolveNeedsAnAnswer() throws {
        let volunteer = helper("h_vol", .volunteer)
        let refused = #expect(throws: PatenError.self) {
            try QuestionRules.checkResolve(question(), by: volunteer, note: nil, awaitingReply: false, at: now)
        }
        #expect(refused?.code == "no_answer_yet")
        #expect(refused?.kind == .conflict)
        // A note does not let a volunteer close an unanswered question.
        #expect(throws: PatenError.self) {
            try QuestionRules.checkResolve(question(), by: volunteer, note: "spam", awaitingReply: false, at: now)
        }
        try QuestionRules.checkResolve(question(answered: true), by: volunteer, note: nil, awaitingReply: false, at: now)
        // Answered once, but the customer's latest follow-up has no reply: still not for a volunteer to close.
        let followUp = #expect(throws: PatenError.self) {
            try QuestionRules.checkResolve(question(answered: true), by: volunteer, note: nil, awaitingReply: true, at: now)
        }
        #expect(followUp?.code == "no_answer_yet")

        for role in [Role.staff, .admin] {
            let actor = helper("h_\(role.rawValue)", role)
            let noNote = #expect(throws: PatenError.self) {
                try QuestionRules.checkResolve(question(), by: actor, note: nil, awaitingReply: false, at: now)
            }
            #expect(noNote?.code == "note_required")
            #expect(noNote?.kind == .unprocessable)
            try QuestionRules.checkResolve(question(), by: actor, note: "Answered by phone", awaitingReply: false, at: now)
            try QuestionRules.checkResolve(question(answered: true), by: actor, note: nil, awaitingReply: false, at: now)
            try QuestionRules.checkResolve(question(answered: true), by: actor, note: nil, awaitingReply: true, at: now)
        }
    }

    @Test("Follow-ups are capped per conversation per minute, with the seconds to wait")
    func followUpRate() throws {
        let limit = QuestionRules.followUpsPerMinute
        let almost = (0..<(limit - 1)).map { now.addingTimeInterval(-Double($0)) }
        try QuestionRules.checkFollowUpRate(question(), recent: almost, at: now)
        // The oldest of the last `limit` messages was 45 s ago: it leaves the window in 15 s.
        let full = (0..<limit).map { now.addingTimeInterval(-45 * Double($0) / Double(limit - 1)) }
        let refused = #expect(throws: PatenError.self) {
            try QuestionRules.checkFollowUpRate(question(), recent: full, at: now)
        }
        #expect(refused?.kind == .tooManyRequests)
        #expect(refused?.code == "too_many_messages")
        #expect(refused?.details["retry_after"] == "15")
        // Once the oldest is a minute old, the next one is taken.
        try QuestionRules.checkFollowUpRate(question(), recent: full, at: now.addingTimeInterval(15))
    }

    @Test("Volunteers get only the timeline keys meant for them, every value masked")
    func volunteerTimeline() {
        let event = QuestionEvent(
            sequence: 7, questionId: "q_1", type: .created, actorId: "int_1", at: now,
            data: [
                "conversation_id": "+49 170 1234567", "webhook_id": "msg_1", "external_message_id": "ext-1",
                "sent_at": "2026-11-30T10:00:00Z", "channel": "int_1", "message_id": "m_1",
                "rating_url": "https://paten.example/v1/ratings/rt_secret", "note": "Call me on +49 170 1234567",
                "reason": "customer_message",
            ]
        )
        let shown = VolunteerView().event(event)
        #expect(Set(shown.data.keys) == ["message_id", "note", "reason"])
        #expect(shown.data["note"]?.contains("1234567") == false)
        #expect(shown.data["reason"] == "customer_message")
        #expect(shown.sequence == 7)
    }

    @Test("A volunteer's detail carries no rating link, whatever was loaded")
    func volunteerDetail() {
        var detail = QuestionDetail(
            question: question(state: .resolved, holder: nil, answered: true), messages: [], events: [], handles: [:],
            ratingLink: IssuedRatingLink(tokenHash: "x", issuedAt: now, expiresAt: now.addingTimeInterval(60), used: false)
        )
        detail.ratingUrl = "https://paten.example/v1/ratings/rt_x"
        let shown = VolunteerView().detail(detail)
        #expect(shown.ratingUrl == nil)
        #expect(shown.ratingLink == nil)
    }
}

@Suite("Rating rules")
struct RatingRuleTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    @Test("A link takes one rating until the instant it expires; 1 and 2 escalate, 3 to 5 do not")
    func rules() throws {
        try RatingRules.checkLink(used: false, expiresAt: now.addingTimeInterval(0.001), at: now)
        let used = #expect(throws: PatenError.self) {
            try RatingRules.checkLink(used: true, expiresAt: now.addingTimeInterval(60), at: now)
        }
        #expect(used?.code == "already_rated")
        let expired = #expect(throws: PatenError.self) { try RatingRules.checkLink(used: false, expiresAt: now, at: now) }
        #expect(expired?.code == "rating_expired")
        #expect(expired?.message.contains("14 days") == true)
        #expect((1...5).filter(RatingRules.escalates) == [1, 2])
    }
}

/// A deterministic stand-in for the HMAC deriver: Core's rules do not depend on which MAC derives the token.
struct FixedDeriver: RatingTokenDeriver {
    func token(questionId: String, issuedAt: Int64) -> String { "rt_\(questionId)_\(issuedAt)" }
}

/// Hashes by reversing: enough to tell a token from its stored form in tests.
struct ReversingHasher: SecretHasher {
    func hash(_ secret: String) -> String { String(secret.reversed()) }
}

@Suite("Rating links")
struct RatingLinkTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000.1234)
    let links = RatingLinks(deriver: FixedDeriver(), hasher: ReversingHasher(), publicURL: "https://paten.example/")

    func helper(_ id: String, _ role: Role) -> Helper {
        Helper(
            id: id, handle: id, displayName: id, role: role, skills: [], languages: [], capacity: 3,
            presence: .available, active: true, createdAt: now, updatedAt: now
        )
    }

    func resolved(channel: String) -> Question {
        Question(
            id: "q_7", subject: "S", customer: Customer(id: "c", name: "C"), channel: channel, topic: "t",
            language: "en", priority: .normal, tier: .volunteer, state: .resolved, resolvedAt: now, createdBy: "x",
            createdAt: now, updatedAt: now
        )
    }

    @Test("A grant stores the token's hash, issued to the millisecond, valid 14 days")
    func grant() {
        let grant = links.grant(questionId: "q_7", at: now)
        let issued = now.millisecondsSince1970
        #expect(grant.issuedAt == Date(millisecondsSince1970: issued))
        #expect(grant.tokenHash == String("rt_q_7_\(issued)".reversed()))
        #expect(grant.expiresAt == now.addingTimeInterval(14 * 86400))
        #expect(RatingLinks.lifetime == 14 * 86400)
        #expect(links.url(questionId: "q_7", issuedAt: grant.issuedAt) == "https://paten.example/v1/ratings/rt_q_7_\(issued)")
    }

    @Test("Only the originating integration, or staff and admins for API questions, see the link while it is live")
    func visibility() {
        let grant = links.grant(questionId: "q_7", at: now)
        let live = IssuedRatingLink(tokenHash: grant.tokenHash, issuedAt: grant.issuedAt, expiresAt: grant.expiresAt, used: false)
        let later = now.addingTimeInterval(60)
        let bridge = helper("int_1", .integration)
        #expect(links.visibleURL(for: resolved(channel: "int_1"), grant: live, viewer: bridge, at: later) != nil)
        #expect(links.visibleURL(for: resolved(channel: "int_2"), grant: live, viewer: bridge, at: later) == nil)
        for role in [Role.staff, .admin] {
            let viewer = helper("h", role)
            #expect(links.visibleURL(for: resolved(channel: "api"), grant: live, viewer: viewer, at: later) != nil)
            #expect(links.visibleURL(for: resolved(channel: "int_1"), grant: live, viewer: viewer, at: later) == nil)
        }
        let volunteer = helper("v", .volunteer)
        #expect(links.visibleURL(for: resolved(channel: "api"), grant: live, viewer: volunteer, at: later) == nil)

        let staff = helper("s", .staff)
        var used = live
        used.used = true
        #expect(links.visibleURL(for: resolved(channel: "api"), grant: used, viewer: staff, at: later) == nil)
        #expect(links.visibleURL(for: resolved(channel: "api"), grant: live, viewer: staff, at: grant.expiresAt) == nil)
        // A link issued before tokens were derived (random, only its hash kept) cannot be given again.
        var legacy = live
        legacy.tokenHash = "somethingelse"
        #expect(links.visibleURL(for: resolved(channel: "api"), grant: legacy, viewer: staff, at: later) == nil)
    }

    @Test("The deliverer fills the placeholder of rating_url, and nothing a customer wrote")
    func fill() throws {
        let issued = Date(millisecondsSince1970: 1_795_000_000_123)
        let placeholder = RatingLinks.placeholder(questionId: "q_7", issuedAt: issued)
        #expect(!placeholder.contains("rt_"))
        // A customer who writes the placeholder's text, quotes and all, gets it escaped inside their message.
        let customerText = #""rating_url":"\#(placeholder)""#
        let body: [String: Any] = ["data": ["message": ["text": customerText], "rating_url": placeholder]]
        let payload = Array(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]))
        let filled = String(decoding: links.fill(payload), as: UTF8.self)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(filled.utf8)) as? [String: Any])
        let data = try #require(parsed["data"] as? [String: Any])
        #expect(data["rating_url"] as? String == "https://paten.example/v1/ratings/rt_q_7_1795000000123")
        #expect((data["message"] as? [String: Any])?["text"] as? String == customerText)
        // A payload without a placeholder is sent as stored.
        let plain = Array(#"{"data":{"rating_url":"https://old.example/v1/ratings/rt_legacy"}}"#.utf8)
        #expect(links.fill(plain) == plain)
    }
}
