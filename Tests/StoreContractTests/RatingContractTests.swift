import Foundation
import PatenCore
import PatenTestSupport
import Testing

/// The same behaviour from every store: a rating link is used once, before it expires; a low score escalates.
@Suite("Store contract: ratings")
struct RatingContractTests {
    static let start = AccountContractTests.start

    static func context(at time: Date) throws -> ChangeContext {
        ChangeContext(now: time, planner: SLAPlanner(policy: try defaultPolicy()), ids: RandomIdentifierGenerator())
    }

    @Test("A link rates once before it expires; a low score escalates once; the rating goes out as an event", arguments: Backend.available)
    func rating(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await store.insertHelper(AccountContractTests.helper("h_admin", "admin", .admin))
            try await store.insertHelper(AccountContractTests.helper("h_vera", "vera"))
            try await store.insertIntegration(
                Integration(
                    id: "int_1", name: "tools", kind: .standard, state: .active, inboundEnabled: false,
                    outboundURL: "https://tools.example/hook", events: [.ratingReceived, .questionEscalated],
                    allChannels: true, createdAt: Self.start, updatedAt: Self.start
                ),
                account: IntegrationContractTests.account("int_1", "tools"),
                secret: IntegrationContractTests.secret("sec_1", at: Self.start)
            )
            let ms = Self.start.millisecondsSince1970
            for (question, hash) in [("q_1", "good"), ("q_2", "bad"), ("q_3", "old")] {
                try await MetricsContractTests.question(store, question, at: 0, tier: .volunteer, state: .resolved, resolvedBy: "h_vera")
                try await execute(
                    store,
                    """
                    INSERT INTO ratings (question_id, token_hash, token_expires_at, issued_at, helper_id, helper_tier)
                    VALUES (?, ?, ?, ?, 'h_vera', 'volunteer')
                    """,
                    [.text(question), .text(hash), .int(ms + (question == "q_3" ? 1000 : 86_400_000)), .int(ms)]
                )
            }
            let now = Self.start.addingTimeInterval(60)
            let good = try await store.rate(tokenHash: "good", score: 5, comment: "Thanks", context: try Self.context(at: now)).rating
            #expect(
                good == Rating(questionId: "q_1", score: 5, comment: "Thanks", helperId: "h_vera", helperTier: .volunteer, ratedAt: now))
            let twice = await #expect(throws: PatenError.self) {
                _ = try await store.rate(tokenHash: "good", score: 1, comment: nil, context: try Self.context(at: now))
            }
            #expect(twice?.code == "already_rated")
            let expired = await #expect(throws: PatenError.self) {
                _ = try await store.rate(tokenHash: "old", score: 4, comment: nil, context: try Self.context(at: now))
            }
            #expect(expired?.code == "rating_expired")
            let unknown = await #expect(throws: PatenError.self) {
                _ = try await store.rate(tokenHash: "nope", score: 4, comment: nil, context: try Self.context(at: now))
            }
            #expect(unknown?.code == "rating_not_found")

            _ = try await store.rate(tokenHash: "bad", score: 1, comment: "No help", context: try Self.context(at: now))
            let escalations = try await store.escalations(matching: EscalationFilter(questionId: "q_2"), at: now)
            #expect(escalations.map(\.reason) == [.lowRating])
            #expect(escalations.first?.note == "The customer rated the answer 1 of 5.")
            #expect(try await store.escalationChanges(after: 0, limit: 10).map(\.kind) == [.created])
            let sent = try await store.deliveries(integrationId: "int_1", state: nil, before: nil, limit: 10).map(\.message.eventType)
            #expect(sent.sorted() == ["question.escalated", "rating.received", "rating.received"])
            let rows = try await store.metricsRows(from: Self.start, to: now, after: nil, limit: 10)
            #expect(rows.map(\.ratingScore) == [5, 1, nil])
        }
    }
}
