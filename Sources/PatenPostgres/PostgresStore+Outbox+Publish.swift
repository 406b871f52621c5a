import Foundation
import PatenCore
import PostgresNIO

extension Question {
    static let pgColumns = """
        id, subject, customer_id, customer_name, channel, topic, language, priority, tier, state, holder_id, \
        lease_expires_at, peer_deadline_at, first_response_at, resolved_at, resolved_by, created_by, created_at, \
        updated_at
        """

    init(pg row: PostgresRow) throws {
        let row = row.makeRandomAccess()
        self.init(
            id: try row.value("id"), subject: try row.value("subject"),
            customer: Customer(id: try row.value("customer_id"), name: try row.value("customer_name")),
            channel: try row.value("channel"), topic: try row.value("topic"), language: try row.value("language"),
            priority: try row.decoded("priority", as: Priority.self), tier: try row.decoded("tier", as: Tier.self),
            state: try row.decoded("state", as: QuestionState.self), holderId: try row.value("holder_id", as: String?.self),
            leaseExpiresAt: try row.optionalDate("lease_expires_at"), peerDeadlineAt: try row.optionalDate("peer_deadline_at"),
            firstResponseAt: try row.optionalDate("first_response_at"), resolvedAt: try row.optionalDate("resolved_at"),
            resolvedBy: try row.value("resolved_by", as: String?.self), createdBy: try row.value("created_by"),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at")
        )
    }
}

extension Message {
    static let pgColumns = "id, question_id, author_kind, helper_id, body, created_at"

    init(pg row: PostgresRow) throws {
        let row = row.makeRandomAccess()
        self.init(
            id: try row.value("id"), questionId: try row.value("question_id"),
            authorKind: try row.decoded("author_kind", as: AuthorKind.self), helperId: try row.value("helper_id", as: String?.self),
            body: try row.value("body"), createdAt: try row.date("created_at")
        )
    }
}

extension PostgresStore {
    /// Writes one outbox message per integration subscribed to the event (about this question), in the caller's
    /// transaction; the same rules as on SQLite (a disabled endpoint's messages wait; the rating link only to the
    /// customer's own integration).
    func publish(
        _ connection: PostgresConnection, _ type: OutboundEventType, questionId: String, actor: String?, at time: Date,
        details: [String: String], escalation: Escalation? = nil, question known: Question? = nil
    ) async throws {
        let subscribers = try await connection.query(
            """
            SELECT id, outbound_disabled_at IS NOT NULL FROM integrations
            WHERE state = 'active' AND outbound_url IS NOT NULL AND events LIKE \("%,\(type.rawValue),%")
            AND (all_channels OR id = (SELECT channel FROM questions WHERE id = \(questionId)))
            """,
            logger: logger
        ).all { try $0.decode((String, Bool).self) }
        guard !subscribers.isEmpty else { return }
        var found = known
        if found == nil {
            found = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT \(Question.pgColumns) FROM questions WHERE id = $1", binds: binds(questionId)),
                logger: logger
            ).first(Question.init(pg:))
        }
        guard let question = found else { throw PatenError.notFound("question", id: questionId) }
        let conversation = try await connection.query(
            "SELECT conversation_id FROM conversations WHERE question_id = \(questionId) LIMIT 1", logger: logger
        ).first { try $0.decode(String.self) }
        var account: Helper?
        if let actor {
            account = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT \(Helper.pgColumns) FROM helpers WHERE id = $1", binds: binds(actor)),
                logger: logger
            ).first(Helper.init(pg:))
        }
        var message: Message?
        if let messageId = details["message_id"] {
            message = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT \(Message.pgColumns) FROM messages WHERE id = $1", binds: binds(messageId)),
                logger: logger
            ).first(Message.init(pg:))
        }
        var subject = escalation
        if subject == nil, let escalationId = details["escalation_id"] {
            subject = try await connection.query(
                PostgresQuery(unsafeSQL: "\(Escalation.pgSelection) WHERE e.id = $1", binds: binds(escalationId)),
                logger: logger
            ).first(Escalation.init(pg:))
        }
        let (shared, own) = try OutboundPayload.bodies(
            type, at: time, question: question, conversationId: conversation, actor: account, message: message,
            escalation: subject, details: details
        )
        let ms = time.millisecondsSince1970
        for (id, paused) in subscribers {
            let payload = Data(id == question.channel ? own : shared)
            try await connection.query(
                """
                INSERT INTO outbox_messages (id, integration_id, event_type, question_id, payload, created_at, state,
                next_attempt_at) VALUES (\(Self.messageIds.make("msg")), \(id), \(type.rawValue), \(questionId),
                \(payload), \(ms), 'pending', \(paused ? nil : ms))
                """,
                logger: logger
            )
        }
    }

    static let messageIds = TimeOrderedIdentifierGenerator()
}
