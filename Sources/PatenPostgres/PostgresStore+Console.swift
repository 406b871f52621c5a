import Foundation
import PatenCore
import PostgresNIO

// Console sessions, the live queue's cells and the rating page's read of a link. No rule lives here.

extension PostgresStore: ConsoleRepository {
    public func insertConsoleSession(_ session: ConsoleSession) async throws {
        try await client.query(
            """
            INSERT INTO console_sessions (id_hash, helper_id, token_id, csrf_token, created_at, expires_at)
            VALUES (\(session.idHash), \(session.helperId), \(session.tokenId), \(session.csrfToken),
            \(session.createdAt.millisecondsSince1970), \(session.expiresAt.millisecondsSince1970))
            """,
            logger: logger
        )
    }

    public func consoleSession(idHash: String) async throws -> ConsoleSession? {
        try await client.query(
            """
            SELECT id_hash, helper_id, token_id, csrf_token, created_at, expires_at FROM console_sessions
            WHERE id_hash = \(idHash)
            """,
            logger: logger
        ).first { row in
            let (idHash, helperId, tokenId, csrf, created, expires) = try row.decode(
                (String, String, String, String, Int64, Int64).self
            )
            return ConsoleSession(
                idHash: idHash, helperId: helperId, tokenId: tokenId, csrfToken: csrf,
                createdAt: Date(millisecondsSince1970: created), expiresAt: Date(millisecondsSince1970: expires)
            )
        }
    }

    public func deleteConsoleSession(idHash: String) async throws {
        try await client.query("DELETE FROM console_sessions WHERE id_hash = \(idHash)", logger: logger)
    }

    public func purgeConsoleSessions(before now: Date, limit: Int) async throws -> Int {
        try await client.query(
            """
            WITH gone AS (
                DELETE FROM console_sessions WHERE id_hash IN (
                    SELECT id_hash FROM console_sessions WHERE expires_at <= \(now.millisecondsSince1970)
                    ORDER BY expires_at LIMIT \(limit) FOR UPDATE SKIP LOCKED
                ) RETURNING 1
            )
            SELECT COUNT(*) FROM gone
            """,
            logger: logger
        ).first { try $0.decode(Int.self) } ?? 0
    }

    public func queueCells() async throws -> [QueueCell] {
        try await client.query(
            """
            SELECT tier, topic, state, SUM(n)::bigint AS n FROM (
                SELECT tier, topic, state, n FROM queue_counts
                UNION ALL SELECT tier, topic, state, delta FROM queue_count_changes
            ) cells GROUP BY tier, topic, state HAVING SUM(n) <> 0
            """,
            logger: logger
        ).all { row in
            let row = row.makeRandomAccess()
            return QueueCell(
                tier: try row.decoded("tier", as: Tier.self), topic: try row.value("topic"),
                state: try row.decoded("state", as: QuestionState.self), count: try row.value("n")
            )
        }
    }

    public func foldQueueCounts(limit: Int) async throws -> Int {
        try await client.query(
            """
            WITH moved AS (
                DELETE FROM queue_count_changes WHERE id IN (
                    SELECT id FROM queue_count_changes ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED
                ) RETURNING tier, topic, state, delta
            ), summed AS (
                SELECT tier, topic, state, SUM(delta) AS n, COUNT(*) AS rows FROM moved GROUP BY tier, topic, state
            ), folded AS (
                INSERT INTO queue_counts (tier, topic, state, n)
                SELECT tier, topic, state, n FROM summed ORDER BY tier, topic, state
                ON CONFLICT (tier, topic, state) DO UPDATE SET n = queue_counts.n + excluded.n
            )
            SELECT COALESCE(SUM(rows), 0)::bigint FROM summed
            """,
            logger: logger
        ).first { try $0.decode(Int.self) } ?? 0
    }

    public func unresolvedEscalationsByReason() async throws -> [(
        reason: EscalationReason, state: EscalationState, count: Int
    )] {
        try await client.query(
            """
            SELECT reason, state, COUNT(*) AS n FROM escalations WHERE state IN ('open', 'acknowledged')
            GROUP BY reason, state ORDER BY reason, state
            """,
            logger: logger
        ).all { row in
            let row = row.makeRandomAccess()
            return (
                try row.decoded("reason", as: EscalationReason.self), try row.decoded("state", as: EscalationState.self),
                try row.value("n")
            )
        }
    }

    public func ratingLink(tokenHash: String) async throws -> RatingLinkView? {
        try await client.query(
            """
            SELECT q.subject, q.language, r.score, r.token_expires_at FROM ratings r
            JOIN questions q ON q.id = r.question_id WHERE r.token_hash = \(tokenHash)
            """,
            logger: logger
        ).first { row in
            let (subject, language, score, expires) = try row.decode((String, String, Int?, Int64).self)
            return RatingLinkView(
                subject: subject, language: language, used: score != nil, expiresAt: Date(millisecondsSince1970: expires)
            )
        }
    }
}
