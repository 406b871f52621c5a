import Foundation
import PatenCore
import PostgresNIO

extension PostgresStore: MetricsRepository {
    public func metricsRows(from: Date, to: Date, after: QuestionCursor?, limit: Int) async throws -> [QuestionMetrics] {
        // With a cursor, the cursor alone is the lower bound (as on SQLite), so each page seeks straight to its start.
        let (lower, limitParameter) = after == nil ? ("q.created_at >= $2", "$3") : ("(q.created_at, q.id) > ($2, $3)", "$4")
        let bounds =
            try after.map { try binds(to.millisecondsSince1970, $0.createdAt.millisecondsSince1970, $0.id, limit) }
            ?? binds(to.millisecondsSince1970, from.millisecondsSince1970, limit)
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT q.id, q.created_at, q.channel, q.topic, q.language, q.priority, q.tier, q.state,
                    q.customer_name, q.moved_to_staff_at, q.first_response_at, q.next_response_count,
                    q.next_response_total_ms, q.next_response_max_ms, q.resolved_at, resolver.handle AS resolver_handle,
                    q.staff_replies, q.volunteer_replies, r.score, r.comment, rated.handle AS rated_handle, r.helper_tier,
                    q.next_response_breaches, credited.handle AS credited_handle
                    FROM questions q
                    LEFT JOIN helpers resolver ON resolver.id = q.resolved_by
                    LEFT JOIN helpers credited ON credited.id = q.credited_helper_id
                    LEFT JOIN ratings r ON r.question_id = q.id AND r.score IS NOT NULL
                    LEFT JOIN helpers rated ON rated.id = r.helper_id
                    WHERE q.created_at < $1 AND \(lower)
                    ORDER BY q.created_at, q.id LIMIT \(limitParameter)
                    """,
                binds: bounds
            ),
            logger: logger
        ).all { $0.makeRandomAccess() }
        guard !rows.isEmpty else { return [] }
        let ids = try rows.map { try $0.value("id", as: String.self) }
        var reasons: [String: [String]] = [:]
        for try await (question, reason) in try await client.query(
            "SELECT question_id, reason FROM escalations WHERE question_id = ANY(\(ids)) ORDER BY created_at, id",
            logger: logger
        ).decode((String, String).self) {
            reasons[question, default: []].append(reason)
        }
        var points: [String: Int] = [:]
        for try await (question, sum) in try await client.query(
            """
            SELECT question_id, SUM(amount)::bigint FROM points_ledger WHERE question_id = ANY(\(ids))
            GROUP BY question_id
            """,
            logger: logger
        ).decode((String, Int64).self) {
            points[question] = Int(sum)
        }
        var clocks: [String: [String: SLAStatus]] = [:]
        for try await (question, target, status) in try await client.query(
            "SELECT question_id, target, status FROM sla_timers WHERE question_id = ANY(\(ids))", logger: logger
        ).decode((String, String, String).self) {
            if let status = SLAStatus(rawValue: status) { clocks[question, default: [:]][target] = status }
        }
        return try rows.map { row in
            let id: String = try row.value("id")
            var questionClocks = clocks[id] ?? [:]
            // A next-response clock restarts with each follow-up; any breach on the way stays the outcome.
            if try row.value("next_response_breaches", as: Int.self) > 0 {
                questionClocks[SLATarget.nextResponse.rawValue] = .breached
            }
            return QuestionMetrics(
                id: id, createdAt: try row.date("created_at"), channel: try row.value("channel"),
                topic: try row.value("topic"), language: try row.value("language"),
                priority: try row.decoded("priority", as: Priority.self), tier: try row.decoded("tier", as: Tier.self),
                state: try row.decoded("state", as: QuestionState.self), customerName: try row.value("customer_name"),
                movedToStaffAt: try row.optionalDate("moved_to_staff_at"),
                firstResponseAt: try row.optionalDate("first_response_at"),
                nextResponseCount: try row.value("next_response_count", as: Int.self),
                nextResponseTotalMs: try row.value("next_response_total_ms"),
                nextResponseMaxMs: try row.value("next_response_max_ms"), resolvedAt: try row.optionalDate("resolved_at"),
                resolverHandle: try row.value("resolver_handle", as: String?.self),
                staffReplies: try row.value("staff_replies", as: Int.self),
                volunteerReplies: try row.value("volunteer_replies", as: Int.self), escalationReasons: reasons[id] ?? [],
                clocks: questionClocks, ratingScore: try row.value("score", as: Int?.self),
                ratingComment: try row.value("comment", as: String?.self),
                ratedHelperHandle: try row.value("rated_handle", as: String?.self),
                ratedHelperTier: try row.value("helper_tier", as: String?.self).flatMap(Tier.init(rawValue:)),
                creditedHelperHandle: try row.value("credited_handle", as: String?.self), points: points[id] ?? 0
            )
        }
    }

    public func queueDepth(at now: Date) async throws -> [Tier: Int] {
        var depth: [Tier: Int] = [:]
        for tier in Tier.allCases {
            depth[tier] =
                try await client.query(
                    """
                    SELECT COUNT(*) FROM questions WHERE tier = \(tier.rawValue)
                    AND (state = 'open' OR (state = 'claimed' AND lease_expires_at <= \(now.millisecondsSince1970)))
                    """,
                    logger: logger
                ).first { try $0.decode(Int.self) } ?? 0
        }
        return depth
    }
}
