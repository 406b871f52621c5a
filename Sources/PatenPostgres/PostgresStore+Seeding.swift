import Foundation
import PatenCore
import PostgresNIO

extension PostgresStore {
    public func seedOpenQuestions(
        count: Int, dueCount: Int, spread: Bool, createdBy: String, at now: Date
    ) async throws -> Int {
        let batch = 10_000
        let nowMs = now.millisecondsSince1970
        let runId = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        // The oldest are due, or (spread) every step-th, as on SQLite.
        let step = spread ? max(1, count / max(1, dueCount)) : 1
        var written = 0
        while written < count {
            let start = written
            let end = min(count, start + batch)
            try await client.query(
                """
                WITH seeded AS (
                    INSERT INTO questions (id, subject, customer_id, customer_name, channel, topic, language, priority,
                    priority_rank, tier, state, peer_deadline_at, created_by, created_at, updated_at)
                    SELECT 'q_seed' || \(runId) || '_' || lpad(i::text, 9, '0'), 'Seeded question ' || i, 'cust-' || i, 'Seed Customer',
                    'api', 'general', 'en', 'normal', 1, 'volunteer', 'open',
                    CASE WHEN \(dueCount) > 0 AND i % \(step) = 0 AND i / \(step) < \(dueCount)
                    THEN \(nowMs) - 1000 ELSE \(nowMs) + 86400000 END,
                    \(createdBy), \(nowMs) - 3600000 - (\(count) - i), \(nowMs) - 3600000 - (\(count) - i)
                    FROM generate_series(\(start)::bigint, \(end - 1)::bigint) AS i
                    RETURNING id, created_at, peer_deadline_at
                )
                INSERT INTO sla_timers (question_id, target, started_at, due_at, next_check_at, status)
                SELECT id, 'peer_window', created_at, peer_deadline_at, peer_deadline_at, 'running' FROM seeded
                """,
                logger: logger
            )
            written = end
        }
        // Fresh statistics, as autovacuum would gather soon after: without them the planner takes the new rows
        // for a handful and picks plans that sort every open question (the queue ran 70 times slower).
        try await client.query("ANALYZE questions, sla_timers", logger: logger)
        return written
    }

    public func count(_ sql: String, _ values: [String]) async throws -> Int {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values { bindings.append(value) }
        return try await client.query(PostgresQuery(unsafeSQL: Self.numbered(sql), binds: bindings), logger: logger).first {
            try $0.decode(Int?.self)
        }.flatMap { $0 } ?? 0
    }

    /// The statement with each `?` placeholder (SQLite's style) numbered `$1, $2, ...` (PostgreSQL's); for statements
    /// written once for both databases, which hold no `?` in literals.
    public static func numbered(_ sql: String) -> String {
        var numbered = ""
        var index = 0
        for character in sql {
            if character == "?" {
                index += 1
                numbered += "$\(index)"
            } else {
                numbered.append(character)
            }
        }
        return numbered
    }
}
