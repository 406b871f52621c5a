import Foundation
import PatenCore
import PostgresNIO

// Questions on PostgreSQL: reads, and the statements the change engine (`PostgresStore+Changes.swift`) shares.

extension QuestionEvent {
    static let pgColumns = "seq, question_id, type, actor_id, at, data"

    init(pg row: PostgresRow) throws {
        let row = row.makeRandomAccess()
        self.init(
            sequence: try row.value("seq"), questionId: try row.value("question_id"),
            type: try row.decoded("type", as: QuestionEventType.self), actorId: try row.value("actor_id", as: String?.self),
            at: try row.date("at"),
            data: try JSONDecoder().decode([String: String].self, from: Data(try row.value("data", as: String.self).utf8))
        )
    }
}

extension PostgresStore: QuestionRepository {
    public func question(id: String) async throws -> Question? {
        try await client.query(
            "SELECT \(unescaped: Question.pgColumns) FROM questions WHERE id = \(id)", logger: logger
        ).first(Question.init(pg:))
    }

    public func questionDetail(id: String, page: DetailPage) async throws -> QuestionDetail? {
        // One snapshot for the question, a page of its messages and of its events, and its rating link.
        try await transaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            guard
                let question = try await connection.query(
                    "SELECT \(unescaped: Question.pgColumns) FROM questions WHERE id = \(id)", logger: logger
                ).first(Question.init(pg:))
            else { return nil }
            // Each page reads one row past its limit to know whether more follow. A message cursor names the last
            // message read; one that is not this question's matches nothing (an empty page), not the start.
            let messages: [Message]
            if let after = page.messagesAfter {
                messages = try await connection.query(
                    """
                    SELECT \(unescaped: Message.pgColumns) FROM messages WHERE question_id = \(id)
                    AND (created_at, seq) > (SELECT created_at, seq FROM messages WHERE id = \(after) AND question_id = \(id))
                    ORDER BY created_at, seq LIMIT \(page.messageLimit + 1)
                    """,
                    logger: logger
                ).all(Message.init(pg:))
            } else {
                messages = try await connection.query(
                    """
                    SELECT \(unescaped: Message.pgColumns) FROM messages WHERE question_id = \(id)
                    ORDER BY created_at, seq LIMIT \(page.messageLimit + 1)
                    """,
                    logger: logger
                ).all(Message.init(pg:))
            }
            let events = try await connection.query(
                """
                SELECT \(unescaped: QuestionEvent.pgColumns) FROM question_events
                WHERE question_id = \(id) AND seq > \(page.eventsAfter ?? 0) ORDER BY seq LIMIT \(page.eventLimit + 1)
                """,
                logger: logger
            ).all(QuestionEvent.init(pg:))
            let shownMessages = Array(messages.prefix(page.messageLimit))
            let shownEvents = Array(events.prefix(page.eventLimit))
            var named = Set(shownMessages.compactMap(\.helperId) + shownEvents.compactMap(\.actorId))
            if let holder = question.holderId { named.insert(holder) }
            if let resolver = question.resolvedBy { named.insert(resolver) }
            let link = try await connection.query(
                "SELECT token_hash, issued_at, token_expires_at, score FROM ratings WHERE question_id = \(id)",
                logger: logger
            ).first { row in
                let (hash, issued, expires, score) = try row.decode((String, Int64, Int64, Int?).self)
                return IssuedRatingLink(
                    tokenHash: hash, issuedAt: Date(millisecondsSince1970: issued),
                    expiresAt: Date(millisecondsSince1970: expires), used: score != nil
                )
            }
            return QuestionDetail(
                question: question, messages: shownMessages, events: shownEvents,
                handles: try await handles(connection, Array(named)),
                messagesNext: messages.count > page.messageLimit ? shownMessages.last?.id : nil,
                eventsNext: events.count > page.eventLimit ? shownEvents.last?.sequence : nil, ratingLink: link
            )
        }
    }

    public func questions(matching filter: QuestionFilter) async throws -> QuestionPage {
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(Question.pgColumns) FROM questions
                    WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR tier = $2)
                    AND ($3::text IS NULL OR topic = $3) AND ($4::text IS NULL OR holder_id = $4)
                    AND ($5::text IS NULL OR channel = $5)
                    AND ($6::bigint IS NULL OR (created_at, id) < ($6, $7::text))
                    ORDER BY created_at DESC, id DESC LIMIT $8
                    """,
                binds: binds(
                    filter.state?.rawValue, filter.tier?.rawValue, filter.topic, filter.holderId, filter.channel,
                    filter.after?.createdAt.millisecondsSince1970, filter.after?.id, filter.limit + 1
                )
            ),
            logger: logger
        ).all(Question.init(pg:))
        let page = Array(rows.prefix(filter.limit))
        let next = rows.count > filter.limit ? page.last.map { QuestionCursor(createdAt: $0.createdAt, id: $0.id) } : nil
        return QuestionPage(questions: page, next: next)
    }

    public func queue(
        for helper: Helper, tiers: [Tier], excludingTopics: [String], at now: Date, limit: Int
    ) async throws -> [Question] {
        guard !tiers.isEmpty else { return [] }
        // Best first: one point each for a topic in the helper's skills and a language they speak, then higher
        // priority, then longest waiting. Each score is its own walk along the index of open questions by rank
        // (`questions_open_by_rank`), stopping after a page, so no request sorts every open question; questions
        // whose claim ran out (few) come from the lease index. The pieces are merged and cut to a page.
        func open(_ score: Int) -> String {
            "SELECT \(Question.pgColumns), priority_rank AS rank_, \(score) AS score_ FROM questions "
                + "WHERE state = 'open' AND tier = ANY($1) AND NOT topic = ANY($6)"
        }
        let page = "ORDER BY priority_rank DESC, created_at, id LIMIT $5"
        return try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT page.*, iq.incident_id AS incident_link FROM (SELECT * FROM (
                        (SELECT \(Question.pgColumns), priority_rank AS rank_,
                        (CASE WHEN topic = ANY($3) THEN 1 ELSE 0 END) + (CASE WHEN language = ANY($4) THEN 1 ELSE 0 END)
                        AS score_ FROM questions
                        WHERE state = 'claimed' AND lease_expires_at <= $2 AND tier = ANY($1) AND NOT topic = ANY($6))
                        UNION ALL (\(open(2)) AND topic = ANY($3) AND language = ANY($4) \(page))
                        UNION ALL (\(open(1)) AND (topic = ANY($3)) <> (language = ANY($4)) \(page))
                        UNION ALL (\(open(0)) AND NOT topic = ANY($3) AND NOT language = ANY($4) \(page))
                    ) AS ranked
                    ORDER BY score_ DESC, rank_ DESC, created_at, id
                    LIMIT $5) AS page
                    LEFT JOIN incident_questions iq ON iq.question_id = page.id
                    ORDER BY page.score_ DESC, page.rank_ DESC, page.created_at, page.id
                    """,
                binds: binds(
                    tiers.map(\.rawValue), now.millisecondsSince1970, helper.skills, helper.languages, limit,
                    excludingTopics
                )
            ),
            logger: logger
        ).all { row in
            // Which of them belong to an incident, in the same statement (volunteers are shown it).
            var question = try Question(pg: row)
            question.incidentId = try row.makeRandomAccess().value("incident_link", as: String?.self)
            return question
        }
    }
}

// Statements shared by the transactions above. Each runs inside the caller's transaction, on a question whose row
// the caller has locked.
extension PostgresStore {
    /// Starts (or restarts) a clock; with `onlyIfEnded`, a clock that is still running is left alone.
    func startTimer(
        _ connection: PostgresConnection, _ questionId: String, _ timer: SLATimer, onlyIfEnded: Bool = false
    ) async throws {
        let guardClause = onlyIfEnded ? "WHERE sla_timers.ended_at IS NOT NULL" : ""
        try await connection.query(
            """
            INSERT INTO sla_timers (question_id, target, started_at, warn_at, due_at, next_check_at, status)
            VALUES (\(questionId), \(timer.target.rawValue), \(timer.startedAt.millisecondsSince1970),
            \(timer.warnAt?.millisecondsSince1970), \(timer.dueAt.millisecondsSince1970),
            \(timer.firstCheck.millisecondsSince1970), 'running')
            ON CONFLICT (question_id, target) DO UPDATE SET
            started_at = EXCLUDED.started_at, warn_at = EXCLUDED.warn_at, due_at = EXCLUDED.due_at,
            next_check_at = EXCLUDED.next_check_at, status = 'running', ended_at = NULL
            \(unescaped: guardClause)
            """,
            logger: logger
        )
    }

    /// Ends live clocks; a clock already breached keeps that status, since a late answer does not undo a breach.
    func endTimers(
        _ connection: PostgresConnection, _ questionId: String, _ targets: [SLATarget], as status: SLAStatus,
        at ms: Int64
    ) async throws {
        try await connection.query(
            """
            UPDATE sla_timers SET status = CASE WHEN status = 'breached' THEN 'breached' ELSE \(status.rawValue) END,
            next_check_at = NULL, ended_at = \(ms)
            WHERE question_id = \(questionId) AND ended_at IS NULL AND target = ANY(\(targets.map(\.rawValue)))
            """,
            logger: logger
        )
    }

    func insertMessage(_ connection: PostgresConnection, _ message: Message) async throws {
        try await connection.query(
            """
            INSERT INTO messages (\(unescaped: Message.pgColumns))
            VALUES (\(message.id), \(message.questionId), \(message.authorKind.rawValue), \(message.helperId),
            \(message.body), \(message.createdAt.millisecondsSince1970))
            """,
            logger: logger
        )
    }

    /// Stores an inbound webhook's id with what it made; a repeat is a `duplicate_webhook` conflict.
    func storeReceipt(
        _ connection: PostgresConnection, _ origin: InboundOrigin, questionId: String, at now: Date
    ) async throws {
        let stored = try await connection.query(
            """
            INSERT INTO webhook_receipts (integration_id, webhook_id, received_at, question_id)
            VALUES (\(origin.integrationId), \(origin.webhookId), \(now.millisecondsSince1970), \(questionId))
            ON CONFLICT (integration_id, webhook_id) DO NOTHING RETURNING webhook_id
            """,
            logger: logger
        ).first { try $0.decode(String.self) }
        guard stored != nil else {
            throw PatenError.conflict("duplicate_webhook", "Webhook \(origin.webhookId) was received before.")
        }
    }

    /// Ties a chat conversation to its new question; a conversation taken meanwhile is `conversation_exists`.
    func startConversation(
        _ connection: PostgresConnection, _ origin: InboundOrigin, questionId: String, at now: Date
    ) async throws {
        let stored = try await connection.query(
            """
            INSERT INTO conversations (integration_id, conversation_id, question_id, created_at)
            VALUES (\(origin.integrationId), \(origin.conversationId), \(questionId), \(now.millisecondsSince1970))
            ON CONFLICT (integration_id, conversation_id) DO NOTHING RETURNING question_id
            """,
            logger: logger
        ).first { try $0.decode(String.self) }
        guard stored != nil else {
            throw PatenError.conflict("conversation_exists", "Conversation \(origin.conversationId) already has a question.")
        }
    }

    /// Handles of the accounts with the ids.
    func handles(_ connection: PostgresConnection, _ ids: [String]) async throws -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        var handles: [String: String] = [:]
        for try await (id, handle) in try await connection.query(
            "SELECT id, handle FROM helpers WHERE id = ANY(\(ids))", logger: logger
        ).decode((String, String).self) {
            handles[id] = handle
        }
        return handles
    }
}
