import Foundation
import GRDB
import PatenCore

// Customers' data on SQLite: the texts a redaction erases, how it is written, and the reads of erasure, export and
// the retention purge. Which question is redacted, and into what, is decided by `QuestionCommands.redact`.

extension SQLiteStore: PrivacyRepository {
    public func customerQuestionIds(
        channel: String, customerId: String, after: String?, limit: Int
    ) async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT id FROM questions WHERE channel = ? AND customer_id = ? AND id > ? ORDER BY id LIMIT ?
                    """,
                arguments: [channel, customerId, after ?? "", limit]
            )
        }
    }

    public func questionsDueRedaction(resolvedBefore: Date, limit: Int) async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT id FROM questions INDEXED BY questions_due_redaction
                    WHERE state = 'resolved' AND redacted_at IS NULL AND resolved_at < ?
                    ORDER BY resolved_at LIMIT ?
                    """,
                arguments: [resolvedBefore.millisecondsSince1970, limit]
            )
        }
    }

    public func recordErasure(_ erasure: Erasure) async throws {
        try await pool.write { db in
            try db.run(
                sql: "INSERT INTO erasures (id, channel, erased_by, erased_at, questions) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    erasure.id, erasure.channel, erasure.erasedBy, erasure.erasedAt.millisecondsSince1970,
                    erasure.questions,
                ]
            )
        }
    }

    public func erasures(limit: Int) async throws -> [Erasure] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, channel, erased_by, erased_at, questions FROM erasures
                    ORDER BY erased_at DESC, id DESC LIMIT ?
                    """,
                arguments: [limit]
            ).map { row in
                Erasure(
                    id: row[0], channel: row[1], erasedBy: row[2], erasedAt: Date(millisecondsSince1970: row[3]),
                    questions: row[4]
                )
            }
        }
    }

    public func rating(questionId: String) async throws -> Rating? {
        try await pool.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT score, comment, helper_id, helper_tier, rated_at, solved FROM ratings
                    WHERE question_id = ? AND score IS NOT NULL
                    """,
                arguments: [questionId]
            ).map { row in
                Rating(
                    questionId: questionId, score: row[0], comment: row[1], helperId: row[2],
                    helperTier: (row[3] as String?).flatMap(Tier.init(rawValue:)),
                    ratedAt: Date(millisecondsSince1970: row[4]), solved: (row[5] as Int?).map { $0 == 1 }
                )
            }
        }
    }

    public func scrubFreedSpace() async throws {
        // Redacted texts live on in the write-ahead log's frames until they are overwritten: copy the log into
        // the database and cut it to nothing. Readers in the middle of a snapshot can keep the log from being
        // truncated; then the next checkpoint does it (SQLite checkpoints the log every 1,000 pages by itself).
        // Rows the redaction deleted or shrank are zeroed as they are written (`secure_delete`, SQLiteStore.init).
        do {
            try await pool.base.writeWithoutTransaction { db in
                _ = try db.checkpoint(.truncate)
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
            // Best effort, as above.
        }
    }
}

extension SQLiteStore {
    /// Every text about the question besides its row, for `SnapshotNeeds.texts`.
    static func redactableTexts(_ db: Database, _ id: String) throws -> [String] {
        try String.fetchAll(
            db,
            sql: """
                SELECT body FROM messages WHERE question_id = ?
                UNION ALL SELECT comment FROM ratings WHERE question_id = ? AND comment IS NOT NULL
                UNION ALL SELECT note FROM escalations WHERE question_id = ? AND note IS NOT NULL
                UNION ALL SELECT conversation_id FROM conversations WHERE question_id = ?
                """,
            arguments: [id, id, id, id]
        )
    }

    /// Writes a redaction of the question (see `QuestionEffect.redact`).
    static func applyRedaction(_ db: Database, _ question: Question, _ redaction: Redaction) throws {
        let id = question.id
        let tombstone = Tombstone.text
        try db.run(
            sql: "UPDATE questions SET subject = ?, customer_id = ?, customer_name = ?, redacted_at = ? WHERE id = ?",
            arguments: [
                question.subject, question.customer.id, question.customer.name, redaction.at.millisecondsSince1970, id,
            ]
        )
        try db.run(sql: "UPDATE messages SET body = ? WHERE question_id = ?", arguments: [tombstone, id])
        try db.run(
            sql: "UPDATE ratings SET comment = ? WHERE question_id = ? AND comment IS NOT NULL", arguments: [tombstone, id]
        )
        try db.run(
            sql: "UPDATE escalations SET note = ? WHERE question_id = ? AND note IS NOT NULL", arguments: [tombstone, id]
        )
        for row in try Row.fetchAll(db, sql: "SELECT seq, data FROM question_events WHERE question_id = ?", arguments: [id]) {
            if let data = redaction.redact(json: row[1]) {
                try db.run(sql: "UPDATE question_events SET data = ? WHERE seq = ?", arguments: [data, row[0] as Int64])
            }
        }
        for row in try Row.fetchAll(db, sql: "SELECT id, payload FROM outbox_messages WHERE question_id = ?", arguments: [id]) {
            if let payload = redaction.redact(jsonData: row[1]) {
                try db.run(sql: "UPDATE outbox_messages SET payload = ? WHERE id = ?", arguments: [payload, row[0] as String])
            }
        }
        // Stored answers of idempotent requests that wrote to the question.
        for row in try Row.fetchAll(
            db, sql: "SELECT rowid, response_body FROM idempotency_keys WHERE question_id = ? AND response_body IS NOT NULL",
            arguments: [id]
        ) {
            if let body = redaction.redact(json: row[1]) {
                try db.run(
                    sql: "UPDATE idempotency_keys SET response_body = ? WHERE rowid = ?", arguments: [body, row[0] as Int64]
                )
            }
        }
        // An incident's title is a member's subject, masked; the member may have been unlinked or its incident
        // merged since, so every incident so named is found (incidents are few: the table is read whole).
        let subjects = redaction.subjects
        try db.run(
            sql: "UPDATE incidents SET title = ? WHERE title IN (\(placeholders(subjects.count)))",
            arguments: StatementArguments([tombstone] + subjects)
        )
        if let bands = try Data.fetchOne(db, sql: "SELECT bands FROM question_signatures WHERE question_id = ?", arguments: [id]) {
            try deleteSignature(db, questionId: id, bands: bands)
        }
        try db.run(sql: "DELETE FROM conversations WHERE question_id = ?", arguments: [id])
    }
}
