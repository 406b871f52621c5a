import Foundation
import PatenCore
import PostgresNIO

extension PostgresStore: RatingRepository {
    public func rate(tokenHash: String, score: Int, comment: String?, context: ChangeContext) async throws -> Rating {
        let now = context.now
        let logger = logger
        return try await transaction { connection in
            // The rating's row is locked: of two submissions of one link, one is recorded, the other is told so.
            guard
                let (questionId, expires, helperId, helperTier, existing) = try await connection.query(
                    """
                    SELECT question_id, token_expires_at, helper_id, helper_tier, score FROM ratings
                    WHERE token_hash = \(tokenHash) FOR UPDATE
                    """,
                    logger: logger
                ).first({ try $0.decode((String, Int64, String?, String?, Int?).self) })
            else { throw PatenError(.notFound, code: "rating_not_found", message: "This rating link is not valid.") }
            try RatingRules.checkLink(used: existing != nil, expiresAt: Date(millisecondsSince1970: expires), at: now)
            try await connection.query(
                """
                UPDATE ratings SET score = \(score), comment = \(comment), rated_at = \(now.millisecondsSince1970)
                WHERE question_id = \(questionId)
                """,
                logger: logger
            )
            let rating = Rating(
                questionId: questionId, score: score, comment: comment, helperId: helperId,
                helperTier: helperTier.flatMap(Tier.init(rawValue:)), ratedAt: now
            )
            try await record(
                connection, .rated, questionId, actor: nil, at: now,
                ["score": String(score), "helper_id": helperId ?? "", "helper_tier": helperTier ?? ""]
            )
            if RatingRules.escalates(score) {
                try await raiseEscalation(
                    connection, questionId, .lowRating, note: "The customer rated the answer \(score) of 5.", actor: nil,
                    context: context
                )
            }
            return rating
        }
    }

    // Statements run inside the caller's transaction.

    /// Appends a timeline event and writes its outbox messages.
    func record(
        _ connection: PostgresConnection, _ type: QuestionEventType, _ questionId: String, actor: String?, at time: Date,
        _ data: [String: String], outbound extra: [String: String] = [:]
    ) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(data), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO question_events (question_id, type, actor_id, at, data)
            VALUES (\(questionId), \(type.rawValue), \(actor), \(time.millisecondsSince1970), \(json))
            """,
            logger: logger
        )
        if let outbound = OutboundEventType(type) {
            try await publish(
                connection, outbound, questionId: questionId, actor: actor, at: time,
                details: data.merging(extra) { _, added in added }
            )
        }
    }

    /// Records an escalation once per question, reason and level (the unique index decides between racing
    /// instances); returns its id when new.
    @discardableResult
    func raiseEscalation(
        _ connection: PostgresConnection, _ questionId: String, _ reason: EscalationReason, level: Int? = nil,
        note: String?, actor: String?, context: ChangeContext
    ) async throws -> String? {
        let id = context.ids.make("esc")
        let level = level ?? reason.defaultLevel
        let now = context.now.millisecondsSince1970
        let inserted = try await connection.query(
            """
            INSERT INTO escalations (id, question_id, reason, level, state, note, created_by, created_at, updated_at)
            VALUES (\(id), \(questionId), \(reason.rawValue), \(level), 'open', \(note), \(actor), \(now), \(now))
            ON CONFLICT (question_id, reason, level) DO NOTHING RETURNING id
            """,
            logger: logger
        ).first { try $0.decode(String.self) }
        guard inserted != nil else { return nil }
        try await appendChange(connection, id, .created, at: now)
        try await record(
            connection, .escalated, questionId, actor: actor, at: context.now,
            ["escalation_id": id, "reason": reason.rawValue, "level": String(level)]
        )
        return id
    }

    /// Appends to the escalation change feed. Readers resume after the last sequence number they saw, so numbers
    /// must become visible in order: a transaction takes the feed's lock (held until it ends) before taking its
    /// number, so no change can commit behind a later one. The lock is the last one a change takes, and the
    /// transactions holding it are short (one question or one escalation each).
    func appendChange(
        _ connection: PostgresConnection, _ id: String, _ kind: EscalationChange.Kind, at ms: Int64
    ) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(\(Self.changeFeedLock))", logger: logger)
        try await connection.query(
            "INSERT INTO escalation_changes (escalation_id, kind, at) VALUES (\(id), \(kind.rawValue), \(ms))",
            logger: logger
        )
    }
}
