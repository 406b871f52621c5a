import Foundation
import PatenCore
import PostgresNIO

// Customers' data on PostgreSQL: the texts a redaction erases, how it is written, and the reads of erasure, export
// and the retention purge. Which question is redacted, and into what, is decided by `QuestionCommands.redact`.

extension PostgresStore: PrivacyRepository {
    public func customerQuestionIds(
        channel: String, customerId: String, after: String?, limit: Int
    ) async throws -> [String] {
        try await client.query(
            """
            SELECT id FROM questions WHERE channel = \(channel) AND customer_id = \(customerId) AND id > \(after ?? "")
            ORDER BY id LIMIT \(limit)
            """,
            logger: logger
        ).all { try $0.decode(String.self) }
    }

    public func questionsDueRedaction(resolvedBefore: Date, limit: Int) async throws -> [String] {
        try await client.query(
            """
            SELECT id FROM questions WHERE state = 'resolved' AND redacted_at IS NULL
            AND resolved_at < \(resolvedBefore.millisecondsSince1970) ORDER BY resolved_at LIMIT \(limit)
            """,
            logger: logger
        ).all { try $0.decode(String.self) }
    }

    public func recordErasure(_ erasure: Erasure) async throws {
        try await client.query(
            """
            INSERT INTO erasures (id, channel, erased_by, erased_at, questions)
            VALUES (\(erasure.id), \(erasure.channel), \(erasure.erasedBy), \(erasure.erasedAt.millisecondsSince1970),
            \(erasure.questions))
            """,
            logger: logger
        )
    }

    public func erasures(limit: Int) async throws -> [Erasure] {
        try await client.query(
            """
            SELECT id, channel, erased_by, erased_at, questions FROM erasures
            ORDER BY erased_at DESC, id DESC LIMIT \(limit)
            """,
            logger: logger
        ).all { row in
            let (id, channel, by, at, questions) = try row.decode((String, String, String, Int64, Int).self)
            return Erasure(
                id: id, channel: channel, erasedBy: by, erasedAt: Date(millisecondsSince1970: at), questions: questions
            )
        }
    }

    public func rating(questionId: String) async throws -> Rating? {
        try await client.query(
            """
            SELECT score, comment, helper_id, helper_tier, rated_at, solved FROM ratings
            WHERE question_id = \(questionId) AND score IS NOT NULL
            """,
            logger: logger
        ).first { row in
            let (score, comment, helperId, tier, ratedAt, solved) = try row.decode(
                (Int, String?, String?, String?, Int64, Bool?).self
            )
            return Rating(
                questionId: questionId, score: score, comment: comment, helperId: helperId,
                helperTier: tier.flatMap(Tier.init(rawValue:)), ratedAt: Date(millisecondsSince1970: ratedAt),
                solved: solved
            )
        }
    }

    /// Nothing to do here: updated rows' old versions are dead tuples until (auto)vacuum reclaims them; see
    /// docs/privacy.md for what an operator does about them, the write-ahead log and backups.
    public func scrubFreedSpace() async throws {}
}

extension PostgresStore {
    /// Every text about the question besides its row, for `SnapshotNeeds.texts`.
    func redactableTexts(_ connection: PostgresConnection, _ id: String) async throws -> [String] {
        try await connection.query(
            """
            SELECT body FROM messages WHERE question_id = \(id)
            UNION ALL SELECT comment FROM ratings WHERE question_id = \(id) AND comment IS NOT NULL
            UNION ALL SELECT note FROM escalations WHERE question_id = \(id) AND note IS NOT NULL
            UNION ALL SELECT conversation_id FROM conversations WHERE question_id = \(id)
            """,
            logger: logger
        ).all { try $0.decode(String.self) }
    }

    /// Writes a redaction of the question (see `QuestionEffect.redact`).
    func applyRedaction(_ connection: PostgresConnection, _ question: Question, _ redaction: Redaction) async throws {
        let id = question.id
        let tombstone = Tombstone.text
        try await connection.query(
            """
            UPDATE questions SET subject = \(question.subject), customer_id = \(question.customer.id),
            customer_name = \(question.customer.name), redacted_at = \(redaction.at.millisecondsSince1970)
            WHERE id = \(id)
            """,
            logger: logger
        )
        try await connection.query("UPDATE messages SET body = \(tombstone) WHERE question_id = \(id)", logger: logger)
        try await connection.query(
            "UPDATE ratings SET comment = \(tombstone) WHERE question_id = \(id) AND comment IS NOT NULL", logger: logger
        )
        try await connection.query(
            "UPDATE escalations SET note = \(tombstone) WHERE question_id = \(id) AND note IS NOT NULL", logger: logger
        )
        let events = try await connection.query(
            "SELECT seq, data FROM question_events WHERE question_id = \(id)", logger: logger
        ).all { try $0.decode((Int64, String).self) }
        for (seq, data) in events {
            if let redacted = redaction.redact(json: data) {
                try await connection.query(
                    "UPDATE question_events SET data = \(redacted) WHERE seq = \(seq)", logger: logger
                )
            }
        }
        let payloads = try await connection.query(
            "SELECT id, payload FROM outbox_messages WHERE question_id = \(id)", logger: logger
        ).all { try $0.decode((String, Data).self) }
        for (messageId, payload) in payloads {
            if let redacted = redaction.redact(jsonData: payload) {
                try await connection.query(
                    "UPDATE outbox_messages SET payload = \(redacted) WHERE id = \(messageId)", logger: logger
                )
            }
        }
        // Stored answers of idempotent requests that wrote to the question.
        let responses = try await connection.query(
            """
            SELECT account_id, route, idempotency_key, response_body FROM idempotency_keys
            WHERE question_id = \(id) AND response_body IS NOT NULL
            """,
            logger: logger
        ).all { try $0.decode((String, String, String, String).self) }
        for (account, route, key, body) in responses {
            if let redacted = redaction.redact(json: body) {
                try await connection.query(
                    """
                    UPDATE idempotency_keys SET response_body = \(redacted)
                    WHERE account_id = \(account) AND route = \(route) AND idempotency_key = \(key)
                    """,
                    logger: logger
                )
            }
        }
        // An incident's title is a member's subject, masked; the member may have been unlinked or its incident
        // merged since, so every incident so named is found (incidents are few: the table is read whole).
        try await connection.query(
            "UPDATE incidents SET title = \(tombstone) WHERE title = ANY(\(redaction.subjects))", logger: logger
        )
        let signatures = try await connection.query(
            "DELETE FROM question_signatures WHERE question_id = \(id) RETURNING created_at, bands", logger: logger
        ).all { try $0.decode((Int64, [Int64]).self) }
        for (created, bands) in signatures {
            try await connection.query(
                """
                DELETE FROM signature_bands WHERE band = ANY(\(bands)) AND created_at = \(created) AND question_id = \(id)
                """,
                logger: logger
            )
        }
        try await connection.query("DELETE FROM conversations WHERE question_id = \(id)", logger: logger)
    }
}
