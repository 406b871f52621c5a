import Foundation
import GRDB
import PatenCore

// Console sessions, the live queue's cells and the rating page's read of a link. No rule lives here.

extension SQLiteStore: ConsoleRepository {
    public func insertConsoleSession(_ session: ConsoleSession) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO console_sessions (id_hash, helper_id, token_id, csrf_token, created_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    session.idHash, session.helperId, session.tokenId, session.csrfToken,
                    session.createdAt.millisecondsSince1970, session.expiresAt.millisecondsSince1970,
                ]
            )
        }
    }

    public func consoleSession(idHash: String) async throws -> ConsoleSession? {
        try await pool.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT id_hash, helper_id, token_id, csrf_token, created_at, expires_at FROM console_sessions
                    WHERE id_hash = ?
                    """,
                arguments: [idHash]
            ).map { row in
                ConsoleSession(
                    idHash: row["id_hash"], helperId: row["helper_id"], tokenId: row["token_id"],
                    csrfToken: row["csrf_token"], createdAt: Date(millisecondsSince1970: row["created_at"]),
                    expiresAt: Date(millisecondsSince1970: row["expires_at"])
                )
            }
        }
    }

    public func deleteConsoleSession(idHash: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM console_sessions WHERE id_hash = ?", arguments: [idHash])
        }
    }

    public func purgeConsoleSessions(before now: Date, limit: Int) async throws -> Int {
        try await pool.write { db in
            try db.execute(
                sql: """
                    DELETE FROM console_sessions WHERE id_hash IN (
                        SELECT id_hash FROM console_sessions WHERE expires_at <= ? ORDER BY expires_at LIMIT ?
                    )
                    """,
                arguments: [now.millisecondsSince1970, limit]
            )
            return db.changesCount
        }
    }

    public func queueCells() async throws -> [QueueCell] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT tier, topic, state, SUM(n) AS n FROM (
                        SELECT tier, topic, state, n FROM queue_counts
                        UNION ALL SELECT tier, topic, state, delta FROM queue_count_changes
                    ) GROUP BY tier, topic, state HAVING SUM(n) <> 0
                    """
            ).map { row in
                QueueCell(
                    tier: try StoredValue.decode(Tier.self, row["tier"]), topic: row["topic"],
                    state: try StoredValue.decode(QuestionState.self, row["state"]), count: row["n"]
                )
            }
        }
    }

    /// SQLite's triggers count directly: there is nothing to fold.
    public func foldQueueCounts(limit: Int) async throws -> Int { 0 }

    public func unresolvedEscalationsByReason() async throws -> [(
        reason: EscalationReason, state: EscalationState, count: Int
    )] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT reason, state, COUNT(*) AS n FROM escalations WHERE state IN ('open', 'acknowledged')
                    GROUP BY reason, state ORDER BY reason, state
                    """
            ).map { row in
                (
                    try StoredValue.decode(EscalationReason.self, row["reason"]),
                    try StoredValue.decode(EscalationState.self, row["state"]), row["n"]
                )
            }
        }
    }

    public func ratingLink(tokenHash: String) async throws -> RatingLinkView? {
        try await pool.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT q.subject, q.language, r.score, r.token_expires_at FROM ratings r
                    JOIN questions q ON q.id = r.question_id WHERE r.token_hash = ?
                    """,
                arguments: [tokenHash]
            ).map { row in
                RatingLinkView(
                    subject: row["subject"], language: row["language"] as String, used: (row["score"] as Int?) != nil,
                    expiresAt: Date(millisecondsSince1970: row["token_expires_at"])
                )
            }
        }
    }
}
