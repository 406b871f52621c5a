import Foundation
import GRDB
import PatenCore

extension SQLiteStore: MetricsRepository {
    public func metricsRows(from: Date, to: Date, after: QuestionCursor?, limit: Int) async throws -> [QuestionMetrics] {
        // The lower bound is the cursor once there is one: given both, SQLite seeks by `created_at >= from` and
        // walks every earlier page again, which made a million-row export quadratic.
        var arguments: [(any DatabaseValueConvertible)?] = [to.millisecondsSince1970]
        var cursorClause = "AND q.created_at >= ?"
        if let after {
            cursorClause = "AND (q.created_at, q.id) > (?, ?)"
            arguments += [after.createdAt.millisecondsSince1970, after.id]
        } else {
            arguments.append(from.millisecondsSince1970)
        }
        arguments.append(limit)
        let bound = StatementArguments(arguments)
        let cursorCondition = cursorClause
        return try await pool.read { db in
            // Rows are decoded straight from the statement (a cursor), without copying each row first.
            var page: [QuestionMetrics] = []
            page.reserveCapacity(limit)
            var breached = Set<String>()
            let rows = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT q.id, q.created_at, q.channel, q.topic, q.language, q.priority, q.tier, q.state,
                        q.customer_name, q.moved_to_staff_at, q.first_response_at, q.next_response_count,
                        q.next_response_total_ms, q.next_response_max_ms, q.resolved_at, resolver.handle,
                        q.staff_replies, q.volunteer_replies, r.score, r.comment, rated.handle, r.helper_tier,
                        q.next_response_breaches, credited.handle
                        FROM questions q
                        LEFT JOIN helpers resolver ON resolver.id = q.resolved_by
                        LEFT JOIN helpers credited ON credited.id = q.credited_helper_id
                        LEFT JOIN ratings r ON r.question_id = q.id AND r.score IS NOT NULL
                        LEFT JOIN helpers rated ON rated.id = r.helper_id
                        WHERE q.created_at < ? \(cursorCondition)
                        ORDER BY q.created_at, q.id LIMIT ?
                        """
                ),
                arguments: bound
            )
            while let row = try rows.next() {
                let metrics = try Self.metrics(row)
                // A next-response clock restarts with each follow-up; any breach on the way stays the outcome.
                if (row[22] as Int? ?? 0) > 0 { breached.insert(metrics.id) }
                page.append(metrics)
            }
            guard !page.isEmpty else { return [] }
            // Escalation reasons and clock outcomes for the whole page, one query each.
            let ids = page.map(\.id)
            let inList = placeholders(ids.count)
            var reasons: [String: [String]] = [:]
            for row in try db.fetchAll(
                Row.self,
                sql: "SELECT question_id, reason FROM escalations WHERE question_id IN (\(inList)) ORDER BY created_at, id",
                arguments: StatementArguments(ids)
            ) {
                reasons[row[0], default: []].append(row[1])
            }
            var points: [String: Int] = [:]
            for row in try db.fetchAll(
                Row.self,
                sql: "SELECT question_id, SUM(amount) FROM points_ledger WHERE question_id IN (\(inList)) GROUP BY question_id",
                arguments: StatementArguments(ids)
            ) {
                points[row[0]] = row[1]
            }
            var clocks: [String: [String: SLAStatus]] = [:]
            for row in try db.fetchAll(
                Row.self, sql: "SELECT question_id, target, status FROM sla_timers WHERE question_id IN (\(inList))",
                arguments: StatementArguments(ids)
            ) {
                if let status = SLAStatus(rawValue: row[2]) { clocks[row[0], default: [:]][row[1]] = status }
            }
            for index in page.indices {
                let id = page[index].id
                page[index].escalationReasons = reasons[id] ?? []
                page[index].clocks = clocks[id] ?? [:]
                page[index].points = points[id] ?? 0
                if breached.contains(id) { page[index].clocks[SLATarget.nextResponse.rawValue] = .breached }
            }
            return page
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

    /// A page row, read by position (the order of the SELECT above): faster than by name on a million rows.
    static func metrics(_ row: Row) throws -> QuestionMetrics {
        QuestionMetrics(
            id: row[0], createdAt: Date(millisecondsSince1970: row[1]), channel: row[2], topic: row[3], language: row[4],
            priority: try StoredValue.decode(Priority.self, row[5]), tier: try StoredValue.decode(Tier.self, row[6]),
            state: try StoredValue.decode(QuestionState.self, row[7]), customerName: row[8],
            movedToStaffAt: StoredValue.date(row[9]), firstResponseAt: StoredValue.date(row[10]),
            nextResponseCount: row[11], nextResponseTotalMs: row[12], nextResponseMaxMs: row[13],
            resolvedAt: StoredValue.date(row[14]), resolverHandle: row[15], staffReplies: row[16],
            volunteerReplies: row[17], escalationReasons: [], clocks: [:], ratingScore: row[18],
            ratingComment: row[19], ratedHelperHandle: row[20],
            ratedHelperTier: (row[21] as String?).flatMap(Tier.init(rawValue:)), creditedHelperHandle: row[23]
        )
    }
}
