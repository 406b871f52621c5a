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
                        SELECT fingerprint, token, created_at, response_status, response_body FROM idempotency_keys
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
                    created_at = \(createdAt), response_status = NULL, response_body = NULL
                    WHERE account_id = \(account) AND route = \(route) AND idempotency_key = \(key)
                    """,
                    logger: logger
                )
                return decision
            }
            return .inUse
        }
    }

    public func completeIdempotencyKey(
        _ scope: IdempotencyScope, token: String, response: IdempotentResponse
    ) async throws {
        try await client.query(
            """
            UPDATE idempotency_keys SET response_status = \(response.status), response_body = \(response.body)
            WHERE account_id = \(scope.accountId) AND route = \(scope.route) AND idempotency_key = \(scope.key.value)
            AND token = \(token)
            """,
            logger: logger
        )
    }

    public func releaseIdempotencyKey(_ scope: IdempotencyScope, token: String) async throws {
        try await client.query(
            """
            DELETE FROM idempotency_keys
            WHERE account_id = \(scope.accountId) AND route = \(scope.route) AND idempotency_key = \(scope.key.value)
            AND token = \(token) AND response_status IS NULL
            """,
            logger: logger
        )
    }

    public func idempotencyRecord(_ scope: IdempotencyScope) async throws -> IdempotencyRecord? {
        try await client.query(
            """
            SELECT fingerprint, token, created_at, response_status, response_body FROM idempotency_keys
            WHERE account_id = \(scope.accountId) AND route = \(scope.route) AND idempotency_key = \(scope.key.value)
            """,
            logger: logger
        ).first({ try IdempotencyRecord(pg: $0, scope: scope) })
    }
}

extension IdempotencyRecord {
    /// A record from a row of `fingerprint, token, created_at, response_status, response_body`.
    init(pg row: PostgresRow, scope: IdempotencyScope) throws {
        let (fingerprint, token, created, status, body) = try row.decode((String, String, Int64, Int?, String?).self)
        self.init(
            scope: scope, fingerprint: fingerprint, token: token, createdAt: Date(millisecondsSince1970: created),
            response: status.map { IdempotentResponse(status: $0, body: body ?? "") }
        )
    }
}
