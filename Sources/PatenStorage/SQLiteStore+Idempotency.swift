import Foundation
import GRDB
import PatenCore

extension SQLiteStore: IdempotencyRepository {
    public func reserveIdempotencyKey(_ record: IdempotencyRecord) async throws -> IdempotencyDecision {
        // The one writer serialises reservations, so reading the stored record and replacing it cannot interleave.
        try await pool.write { db in
            let expiredBefore = record.createdAt.addingTimeInterval(-IdempotencyKey.lifetime).millisecondsSince1970
            try db.run(
                sql: """
                    DELETE FROM idempotency_keys WHERE rowid IN (
                        SELECT rowid FROM idempotency_keys WHERE created_at <= ? ORDER BY created_at LIMIT ?
                    )
                    """,
                arguments: [expiredBefore, IdempotencyKey.purgeBatch]
            )
            let decision = record.decide(against: try Self.idempotencyRecord(db, record.scope))
            guard decision == .reserved else { return decision }
            try db.run(
                sql: """
                    INSERT OR REPLACE INTO idempotency_keys
                    (account_id, route, idempotency_key, fingerprint, token, created_at, response_status, response_body)
                    VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)
                    """,
                arguments: [
                    record.scope.accountId, record.scope.route, record.scope.key.value, record.fingerprint, record.token,
                    record.createdAt.millisecondsSince1970,
                ]
            )
            return decision
        }
    }

    /// The answer is not kept when the question it wrote to was redacted meanwhile (it holds the customer's words);
    /// a retry rebuilds it.
    public func completeIdempotencyKey(
        _ scope: IdempotencyScope, token: String, response: IdempotentResponse
    ) async throws {
        try await pool.write { db in
            try db.run(
                sql: """
                    UPDATE idempotency_keys SET response_status = ?, response_body = ?
                    WHERE account_id = ? AND route = ? AND idempotency_key = ? AND token = ? AND response_status IS NULL
                    AND NOT EXISTS (
                        SELECT 1 FROM questions q WHERE q.id = idempotency_keys.question_id AND q.redacted_at IS NOT NULL
                    )
                    """,
                arguments: [response.status, response.body, scope.accountId, scope.route, scope.key.value, token]
            )
        }
    }

    public func releaseIdempotencyKey(_ scope: IdempotencyScope, token: String) async throws {
        try await pool.write { db in
            try db.run(
                sql: """
                    DELETE FROM idempotency_keys
                    WHERE account_id = ? AND route = ? AND idempotency_key = ? AND token = ? AND response_status IS NULL
                    AND question_id IS NULL
                    """,
                arguments: [scope.accountId, scope.route, scope.key.value, token]
            )
        }
    }

    public func idempotencyRecord(_ scope: IdempotencyScope) async throws -> IdempotencyRecord? {
        try await pool.read { db in try Self.idempotencyRecord(db, scope) }
    }

    public func idempotentWriteResult(_ write: IdempotentWrite) async throws -> IdempotentWriteResult? {
        try await pool.read { db in
            guard let question = try Self.fetchQuestion(db, write.questionId) else { return nil }
            guard let messageId = write.messageId else { return IdempotentWriteResult(question: question) }
            return try Message.fetchOne(
                db, sql: "SELECT \(Message.columns) FROM messages WHERE id = ? AND question_id = ?",
                arguments: [messageId, write.questionId]
            ).map { IdempotentWriteResult(question: question, message: $0) }
        }
    }

    /// Marks the reservation with what its request wrote, inside the write's transaction; a reservation that lapsed
    /// and was taken over (or already has a write) refuses the write, so the transaction rolls back.
    static func markIdempotentWrite(
        _ db: Database, _ reservation: IdempotencyReservation?, _ write: IdempotentWrite
    ) throws {
        guard let reservation else { return }
        let scope = reservation.scope
        try db.run(
            sql: """
                UPDATE idempotency_keys SET question_id = ?, message_id = ?
                WHERE account_id = ? AND route = ? AND idempotency_key = ? AND token = ? AND question_id IS NULL
                AND response_status IS NULL
                """,
            arguments: [
                write.questionId, write.messageId, scope.accountId, scope.route, scope.key.value, reservation.token,
            ]
        )
        guard db.changesCount == 1 else { throw IdempotencyReservation.lost }
    }

    static func idempotencyRecord(_ db: Database, _ scope: IdempotencyScope) throws -> IdempotencyRecord? {
        guard
            let row = try db.fetchOne(
                Row.self,
                sql: """
                    SELECT fingerprint, token, created_at, question_id, message_id, response_status, response_body
                    FROM idempotency_keys WHERE account_id = ? AND route = ? AND idempotency_key = ?
                    """,
                arguments: [scope.accountId, scope.route, scope.key.value]
            )
        else { return nil }
        let status: Int? = row["response_status"]
        let body: String? = row["response_body"]
        let questionId: String? = row["question_id"]
        return IdempotencyRecord(
            scope: scope, fingerprint: row["fingerprint"], token: row["token"],
            createdAt: Date(millisecondsSince1970: row["created_at"]),
            write: questionId.map { IdempotentWrite(questionId: $0, messageId: row["message_id"]) },
            response: status.map { IdempotentResponse(status: $0, body: body ?? "") }
        )
    }
}
