import Foundation
import PatenCore
import PatenTestSupport
import Testing

/// The same behaviour from every store: the rows metrics are computed from, and the queue depth.
@Suite("Store contract: metrics")
struct MetricsContractTests {
    static let start = AccountContractTests.start

    /// A question row as the question transactions leave it.
    static func question(
        _ store: any AccountStore, _ id: String, at offset: TimeInterval, tier: Tier, state: QuestionState,
        lease: TimeInterval? = nil, resolvedBy: String? = nil, breaches: Int64 = 0
    ) async throws {
        let created = start.addingTimeInterval(offset).millisecondsSince1970
        try await execute(
            store,
            """
            INSERT INTO questions (id, subject, customer_id, customer_name, channel, topic, language, priority, priority_rank,
            tier, state, lease_expires_at, first_response_at, resolved_at, resolved_by, created_by, created_at, updated_at,
            next_response_count, next_response_total_ms, next_response_max_ms, staff_replies, volunteer_replies,
            next_response_breaches)
            VALUES (?, 'Subject', 'c-1', 'Ann', 'api', 'roaming', 'de', 'normal', 1, ?, ?, ?, ?, ?, ?, 'h_admin', ?, ?,
            2, 3000, 2000, 1, 2, ?)
            """,
            [
                .text(id), .text(tier.rawValue), .text(state.rawValue),
                lease.map { .int(start.addingTimeInterval($0).millisecondsSince1970) } ?? .null, .int(created + 1000),
                resolvedBy == nil ? .null : .int(created + 5000), resolvedBy.map { .text($0) } ?? .null, .int(created),
                .int(created), .int(breaches),
            ]
        )
    }

    @Test(
        "Metric rows page by creation time with escalations, clocks and ratings; the queue counts lapsed leases",
        arguments: Backend.available)
    func rows(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await store.insertHelper(AccountContractTests.helper("h_admin", "admin", .admin))
            try await store.insertHelper(AccountContractTests.helper("h_vera", "vera"))
            try await Self.question(store, "q_1", at: 0, tier: .volunteer, state: .resolved, resolvedBy: "h_vera")
            try await Self.question(store, "q_2", at: 10, tier: .staff, state: .open, breaches: 1)
            try await Self.question(store, "q_3", at: 20, tier: .volunteer, state: .claimed, lease: 30)
            try await Self.question(store, "q_4", at: 30, tier: .volunteer, state: .claimed, lease: 300)
            let ms = Self.start.millisecondsSince1970
            try await execute(
                store,
                """
                INSERT INTO ratings (question_id, token_hash, token_expires_at, issued_at, helper_id, helper_tier, score,
                comment, rated_at) VALUES ('q_1', 'hash', ?, ?, 'h_vera', 'volunteer', 5, 'Great', ?)
                """,
                [.int(ms + 99_000), .int(ms), .int(ms + 9000)]
            )
            for (id, question, reason, level) in [("esc_1", "q_2", "critical_intake", 2), ("esc_2", "q_2", "sla_warning", 1)] {
                try await execute(
                    store,
                    """
                    INSERT INTO escalations (id, question_id, reason, level, state, created_at, updated_at)
                    VALUES (?, ?, ?, ?, 'open', ?, ?)
                    """,
                    [.text(id), .text(question), .text(reason), .int(Int64(level)), .int(ms + Int64(level)), .int(ms)]
                )
            }
            try await execute(
                store,
                """
                INSERT INTO sla_timers (question_id, target, started_at, due_at, status)
                VALUES ('q_2', 'first_response', ?, ?, 'warned')
                """,
                [.int(ms), .int(ms + 3_600_000)]
            )

            let to = Self.start.addingTimeInterval(3600)
            let first = try await store.metricsRows(from: Self.start, to: to, after: nil, limit: 2)
            #expect(first.map(\.id) == ["q_1", "q_2"])
            let resolved = first[0]
            #expect(resolved.resolverHandle == "vera" && resolved.ratingScore == 5 && resolved.ratingComment == "Great")
            #expect(resolved.ratedHelperHandle == "vera" && resolved.ratedHelperTier == .volunteer)
            #expect(resolved.firstResponseAt == Self.start.addingTimeInterval(1))
            #expect(resolved.nextResponseCount == 2 && resolved.nextResponseTotalMs == 3000 && resolved.volunteerReplies == 2)
            let escalated = first[1]
            #expect(escalated.escalationReasons == ["sla_warning", "critical_intake"])
            #expect(escalated.clocks == ["first_response": .warned, "next_response": .breached])
            let cursor = QuestionCursor(createdAt: escalated.createdAt, id: escalated.id)
            #expect(try await store.metricsRows(from: Self.start, to: to, after: cursor, limit: 10).map(\.id) == ["q_3", "q_4"])
            #expect(
                try await store.metricsRows(from: Self.start.addingTimeInterval(15), to: to, after: nil, limit: 10).map(\.id) == [
                    "q_3", "q_4",
                ])
            #expect(
                try await store.metricsRows(from: Self.start, to: Self.start.addingTimeInterval(10), after: nil, limit: 10).map(\.id) == [
                    "q_1"
                ])
            // q_3's lease ran out at +30 s: it is claimable again; q_4's has not.
            #expect(try await store.queueDepth(at: Self.start.addingTimeInterval(60)) == [.volunteer: 1, .staff: 1])
        }
    }
}
