import Foundation
import PatenCore
import PostgresNIO

extension PostgresStore: IdempotencyRepository {
    public func reserveIdempotencyKey(_ record: IdempotencyRecord) async throws -> IdempotencyDecision {
        let logger = logger
        let scope = record.scope
        let (account, route, key) = (scope.accountId, scope.route, scope.key.value)
        let createdAt = record.createdAt.millisecondsSince1970
        let expiredBefore = record.createdAt.addingTimeInterval(-IdempotencyKey.lifetime).millisecondsSince1970
        return try await transaction { connection in
            // Rows another transaction holds are left for a later purge rather than waited for.
            try await connection.query(
                """
                DELETE FROM idempotency_keys WHERE (account_id, route, idempotency_key) IN (
                    SELECT account_id, route, idempotency_key FROM idempotency_keys WHERE created_at <= \(expiredBefore)
                    ORDER BY created_at LIMIT \(IdempotencyKey.purgeBatch) FOR UPDATE SKIP LOCKED
                )
                """,
                logger: logger
            )
            // The insert waits for a concurrent one under the same scope to commit or roll back, so of two racing
            // requests one inserts and the other reads its reservation. A record released between the insert and
            // the read is tried again.
            for _ in 0..<3 {
                let inserted = try await connection.query(
                    """
                    INSERT INTO idempotency_keys (account_id, route, idempotency_key, fingerprint, token, created_at)
                    VALUES (\(account), \(route), \(key), \(record.fingerprint), \(record.token), \(createdAt))
                    ON CONFLICT (account_id, route, idempotency_key) DO NOTHING RETURNING token
                    """,
                    logger: logger
                ).first({ try $0.decode(String.self) })
                if inserted != nil { return .reserved }
                guard
                    let existing = try await connection.query(
                        """
                        SELECT \(unescaped: IdempotencyRecord.pgColumns) FROM idempotency_keys
                        WHERE account_id = \(account) AND route = \(route) AND idempotency_key = \(key) FOR UPDATE
                        """,
                        logger: logger
                    ).first({ try IdempotencyRecord(pg: $0, scope: scope) })
                else { continue }
                let decision = record.decide(against: existing)
                guard decision == .reserved else { return decision }
                try await connection.query(
                    """
                    UPDATE idempotency_keys SET fingerprint = \(record.fingerprint), token = \(record.token),
                    created_at = \(createdAt), question_id = NULL, message_id = NULL, response_status = NULL,
                    response_body = NULL
                    WHERE account_id = \(account) AND route = \(route) AND idempotency_key = \(key)
                    """,
                    logger: logger
                )
                return decision
            }
            return .inUse
        }
    }

    /// The answer is not kept when the question it wrote to was redacted meanwhile (it holds the customer's words);
    /// the question's row is read under a share lock, so an erasure in flight is waited for. A retry rebuilds it.
    public func completeIdempotencyKey(
        _ scope: IdempotencyScope, token: String, response: IdempotentResponse
    ) async throws {
        try await client.query(
            """
            UPDATE idempotency_keys k SET response_status = \(response.status), response_body = \(response.body)
            WHERE account_id = \(scope.accountId) AND route = \(scope.route) AND idempotency_key = \(scope.key.value)
            AND token = \(token) AND response_status IS NULL
            AND (SELECT q.redacted_at FROM questions q WHERE q.id = k.question_id FOR SHARE) IS NULL
            """,
            logger: logger
        )
    }

    public func releaseIdempotencyKey(_ scope: IdempotencyScope, token: String) async throws {
        try await client.query(
            """
            DELETE FROM idempotency_keys
            WHERE account_id = \(scope.accountId) AND route = \(scope.route) AND idempotency_key = \(scope.key.value)
            AND token = \(token) AND response_status IS NULL AND question_id IS NULL
            """,
            logger: logger
        )
    }

    public func idempotencyRecord(_ scope: IdempotencyScope) async throws -> IdempotencyRecord? {
        try await client.query(
            """
            SELECT \(unescaped: IdempotencyRecord.pgColumns) FROM idempotency_keys
            WHERE account_id = \(scope.accountId) AND route = \(scope.route) AND idempotency_key = \(scope.key.value)
            """,
            logger: logger
        ).first({ try IdempotencyRecord(pg: $0, scope: scope) })
    }

    public func idempotentWriteResult(_ write: IdempotentWrite) async throws -> IdempotentWriteResult? {
        guard let question = try await question(id: write.questionId) else { return nil }
        guard let messageId = write.messageId else { return IdempotentWriteResult(question: question) }
        return try await client.query(
            """
            SELECT \(unescaped: Message.pgColumns) FROM messages
            WHERE id = \(messageId) AND question_id = \(write.questionId)
            """,
            logger: logger
        ).first(Message.init(pg:)).map { IdempotentWriteResult(question: question, message: $0) }
    }

    /// Marks the reservation with what its request wrote, inside the write's transaction; a reservation that lapsed
    /// and was taken over (or already has a write) refuses the write, so the transaction rolls back. The update
    /// waits for a concurrent reservation of the key, and sees its token once that commits.
    func markIdempotentWrite(
        _ connection: PostgresConnection, _ reservation: IdempotencyReservation?, _ write: IdempotentWrite
    ) async throws {
        guard let reservation else { return }
        let scope = reservation.scope
        let marked = try await connection.query(
            """
            UPDATE idempotency_keys SET question_id = \(write.questionId), message_id = \(write.messageId)
            WHERE account_id = \(scope.accountId) AND route = \(scope.route) AND idempotency_key = \(scope.key.value)
            AND token = \(reservation.token) AND question_id IS NULL AND response_status IS NULL
            RETURNING token
            """,
            logger: logger
        ).first({ try $0.decode(String.self) })
        guard marked != nil else { throw IdempotencyReservation.lost }
    }
}

extension IdempotencyRecord {
    static let pgColumns = "fingerprint, token, created_at, question_id, message_id, response_status, response_body"

    /// A record from a row of `pgColumns`.
    init(pg row: PostgresRow, scope: IdempotencyScope) throws {
        let (fingerprint, token, created, questionId, messageId, status, body) = try row.decode(
            (String, String, Int64, String?, String?, Int?, String?).self
        )
        self.init(
            scope: scope, fingerprint: fingerprint, token: token, createdAt: Date(millisecondsSince1970: created),
            write: questionId.map { IdempotentWrite(questionId: $0, messageId: messageId) },
            response: status.map { IdempotentResponse(status: $0, body: body ?? "") }
        )
    }
}
