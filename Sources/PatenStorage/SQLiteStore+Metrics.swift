import Foundation
import GRDB
import PatenCore

extension SQLiteStore: MetricsRepository {
    public func metricsRows(from: Date, to: Date, after: QuestionCursor?, limit: Int) async throws -> [QuestionMetrics] {
        var arguments: [(any DatabaseValueConvertible)?] = [from.millisecondsSince1970, to.millisecondsSince1970]
        var cursorClause = ""
        if let after {
            // A row-value comparison lets the index seek straight to the page instead of rescanning from the start.
            cursorClause = "AND (q.created_at, q.id) > (?, ?)"
            arguments += [after.createdAt.millisecondsSince1970, after.id]
        }
        arguments.append(limit)
        let bound = StatementArguments(arguments)
        let cursorCondition = cursorClause
        return try await pool.read { db in
            try db.fetchAll(
                Row.self,

                sql: """
                    SELECT q.id, q.created_at, q.channel, q.topic, q.language, q.priority, q.tier, q.state,
                    q.customer_name, q.moved_to_staff_at, q.first_response_at, q.next_response_count,
                    q.next_response_total_ms, q.next_response_max_ms, q.resolved_at, resolver.handle AS resolver_handle,
                    q.staff_replies, q.volunteer_replies,
                    (SELECT group_concat(reason, ' ') FROM
                        (SELECT reason FROM escalations e WHERE e.question_id = q.id ORDER BY e.created_at, e.id))
                        AS reasons,
                    (SELECT group_concat(target || '=' || status, ' ') FROM sla_timers t WHERE t.question_id = q.id)
                        AS clocks,
                    r.score, r.comment, rated.handle AS rated_handle, r.helper_tier
                    FROM questions q
                    LEFT JOIN helpers resolver ON resolver.id = q.resolved_by
                    LEFT JOIN ratings r ON r.question_id = q.id AND r.score IS NOT NULL
                    LEFT JOIN helpers rated ON rated.id = r.helper_id
                    WHERE q.created_at >= ? AND q.created_at < ? \(cursorCondition)
                    ORDER BY q.created_at, q.id LIMIT ?
                    """,
                arguments: bound
            ).map(Self.metrics)
        }
    }

    public func queueDepth(at now: Date) async throws -> [Tier: Int] {
        try await pool.read { db in
            var depth: [Tier: Int] = [:]
            for tier in Tier.allCases {
                let open = try db.fetchOne(
                    Int.self,
                    sql: "SELECT COUNT(*) FROM questions WHERE tier = ? AND state = 'open'", arguments: [tier.rawValue]
                )
                let lapsed = try db.fetchOne(
                    Int.self,

                    sql: "SELECT COUNT(*) FROM questions WHERE state = 'claimed' AND lease_expires_at <= ? AND tier = ?",
                    arguments: [now.millisecondsSince1970, tier.rawValue]
                )
                depth[tier] = (open ?? 0) + (lapsed ?? 0)
            }
            return depth
        }
    }

    static func metrics(_ row: Row) throws -> QuestionMetrics {
        let clocks = ((row["clocks"] as String?) ?? "").split(separator: " ").reduce(into: [String: SLAStatus]()) {
            clocks, pair in
            let parts = pair.split(separator: "=")
            if parts.count == 2, let status = SLAStatus(rawValue: String(parts[1])) { clocks[String(parts[0])] = status }
        }
        return QuestionMetrics(
            id: row["id"], createdAt: Date(millisecondsSince1970: row["created_at"]), channel: row["channel"],
            topic: row["topic"], language: row["language"], priority: try StoredValue.decode(Priority.self, row["priority"]),
            tier: try StoredValue.decode(Tier.self, row["tier"]),
            state: try StoredValue.decode(QuestionState.self, row["state"]), customerName: row["customer_name"],
            movedToStaffAt: StoredValue.date(row["moved_to_staff_at"]),
            firstResponseAt: StoredValue.date(row["first_response_at"]), nextResponseCount: row["next_response_count"],
            nextResponseTotalMs: row["next_response_total_ms"], nextResponseMaxMs: row["next_response_max_ms"],
            resolvedAt: StoredValue.date(row["resolved_at"]), resolverHandle: row["resolver_handle"],
            staffReplies: row["staff_replies"], volunteerReplies: row["volunteer_replies"],
            escalationReasons: ((row["reasons"] as String?) ?? "").split(separator: " ").map(String.init),
            clocks: clocks, ratingScore: row["score"], ratingComment: row["comment"], ratedHelperHandle: row["rated_handle"],
            ratedHelperTier: (row["helper_tier"] as String?).flatMap(Tier.init(rawValue:))
        )
    }
}
