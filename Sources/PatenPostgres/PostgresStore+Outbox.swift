import Foundation
import PatenCore
import PostgresNIO

extension WebhookMessage {
    static let pgColumns = """
        m.id, m.integration_id, m.event_type, m.question_id, m.payload, m.created_at, m.state, m.attempts, \
        m.next_attempt_at, m.delivered_at, m.dead_at, m.last_error
        """

    init(pg row: PostgresRandomAccessRow) throws {
        self.init(
            id: try row.value("id"), integrationId: try row.value("integration_id"), eventType: try row.value("event_type"),
            questionId: try row.value("question_id", as: String?.self), payload: Array(try row.value("payload", as: Data.self)),
            createdAt: try row.date("created_at"), state: try row.decoded("state", as: DeliveryState.self),
            attempts: try row.value("attempts", as: Int.self), nextAttemptAt: try row.optionalDate("next_attempt_at"),
            deliveredAt: try row.optionalDate("delivered_at"), deadAt: try row.optionalDate("dead_at"),
            lastError: try row.value("last_error", as: String?.self)
        )
    }
}

extension DeliveryAttempt {
    init(pg row: PostgresRandomAccessRow) throws {
        self.init(
            attempt: try row.value("attempt", as: Int.self), at: try row.date("attempted_at"),
            outcome: try row.decoded("outcome", as: AttemptOutcome.self),
            statusCode: try row.value("status_code", as: Int?.self), latencyMs: try row.value("latency_ms", as: Int.self),
            error: try row.value("error", as: String?.self)
        )
    }
}

extension PostgresStore: OutboxRepository {
    public func claimDueMessages(
        at now: Date, lease: TimeInterval, limit: Int, excluding: Set<String>
    ) async throws -> [DueDelivery] {
        // Due rows are locked and skipped by other instances (SKIP LOCKED), then leased under fresh tokens in the
        // same statement: of any number of deliverers, one takes each message.
        let claimed = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    WITH due AS (
                        SELECT m.id, m.next_attempt_at AS due_at, m.seq FROM outbox_messages m
                        JOIN integrations i ON i.id = m.integration_id
                        WHERE m.state = 'pending' AND m.next_attempt_at <= $1 AND NOT (m.integration_id = ANY($2))
                        AND i.state = 'active' AND i.outbound_disabled_at IS NULL AND i.outbound_url IS NOT NULL
                        ORDER BY m.next_attempt_at, m.seq LIMIT $3
                        FOR UPDATE OF m SKIP LOCKED
                    )
                    UPDATE outbox_messages m SET next_attempt_at = $4, claim_token = 'clm_' || gen_random_uuid()::text
                    FROM due WHERE m.id = due.id
                    RETURNING \(WebhookMessage.pgColumns), m.claim_token, due.due_at, due.seq
                    """,
                binds: binds(
                    now.millisecondsSince1970, excluding.sorted(), limit, now.addingTimeInterval(lease).millisecondsSince1970
                )
            ),
            logger: logger
        ).all { row -> (message: WebhookMessage, token: String, order: (Int64, Int64)) in
            let row = row.makeRandomAccess()
            var message = try WebhookMessage(pg: row)
            let dueAt = try row.value("due_at", as: Int64.self)
            message.nextAttemptAt = Date(millisecondsSince1970: dueAt)
            return (message, try row.value("claim_token"), (dueAt, try row.value("seq", as: Int64.self)))
        }.sorted { $0.order < $1.order }
        var endpoints: [String: (url: String, secrets: [SealedSecret])] = [:]
        var due: [DueDelivery] = []
        for (message, token, _) in claimed {
            if endpoints[message.integrationId] == nil,
                let integration = try await integration(id: message.integrationId), let url = integration.outboundURL
            {
                endpoints[message.integrationId] = (url, try await activeSecrets(integrationId: integration.id, at: now))
            }
            guard let endpoint = endpoints[message.integrationId] else { continue }
            due.append(DueDelivery(message: message, url: endpoint.url, secrets: endpoint.secrets, claimToken: token))
        }
        return due
    }

    public func renewClaims(_ tokens: [String], until: Date) async throws -> Set<String> {
        guard !tokens.isEmpty else { return [] }
        // One statement over several messages, which an integration's change may be updating in another order.
        return try await retryingConflicts {
            Set(
                try await client.query(
                    """
                    UPDATE outbox_messages SET next_attempt_at = \(until.millisecondsSince1970)
                    WHERE claim_token = ANY(\(tokens)) AND state = 'pending' AND next_attempt_at IS NOT NULL
                    RETURNING claim_token
                    """,
                    logger: logger
                ).all { try $0.decode(String.self) }
            )
        }
    }

    public func releaseClaims(_ tokens: [String], nextAttemptAt: Date) async throws {
        guard !tokens.isEmpty else { return }
        try await retryingConflicts {
            try await client.query(
                """
                UPDATE outbox_messages SET claim_token = NULL, next_attempt_at = \(nextAttemptAt.millisecondsSince1970)
                WHERE claim_token = ANY(\(tokens)) AND state = 'pending' AND next_attempt_at IS NOT NULL
                """,
                logger: logger
            )
        }
    }

    public func finishAttempt(_ report: AttemptReport) async throws -> Bool {
        let attempt = report.attempt
        let now = attempt.at.millisecondsSince1970
        let logger = logger
        return try await transaction { connection in
            // The lock order of integrations (see `updateIntegration`): the integration's row before the message's,
            // which orders concurrent results for one message (a stale holder and the current one).
            try await lockIntegration(connection, report.integrationId)
            let number =
                try await connection.query(
                    """
                    SELECT (SELECT COALESCE(MAX(attempt), 0) FROM delivery_attempts WHERE message_id = m.id)
                    FROM outbox_messages m WHERE m.id = \(report.messageId) FOR UPDATE
                    """,
                    logger: logger
                ).first { try $0.decode(Int.self) } ?? 0
            try await connection.query(
                """
                INSERT INTO delivery_attempts (message_id, attempt, attempted_at, outcome, status_code, latency_ms, error)
                VALUES (\(report.messageId), \(number + 1), \(now), \(attempt.outcome.rawValue), \(attempt.statusCode),
                \(attempt.latencyMs), \(attempt.error))
                """,
                logger: logger
            )
            let changed: Int
            switch report.disposition {
            case .delivered:
                changed = try await connection.query(
                    """
                    UPDATE outbox_messages SET state = 'delivered', delivered_at = \(now), next_attempt_at = NULL,
                    attempts = attempts + 1, last_error = NULL, claim_token = NULL
                    WHERE id = \(report.messageId) AND claim_token = \(report.claimToken) AND state = 'pending' RETURNING 1
                    """,
                    logger: logger
                ).all { _ in 1 }.count
            case .retry(let next):
                changed = try await connection.query(
                    """
                    UPDATE outbox_messages SET attempts = attempts + 1, last_error = \(attempt.error), claim_token = NULL,
                    next_attempt_at = \(next.millisecondsSince1970)
                    WHERE id = \(report.messageId) AND claim_token = \(report.claimToken) AND state = 'pending' RETURNING 1
                    """,
                    logger: logger
                ).all { _ in 1 }.count
            case .deadLetter, .endpointGone:
                changed = try await connection.query(
                    """
                    UPDATE outbox_messages SET state = 'dead', dead_at = \(now), next_attempt_at = NULL,
                    attempts = attempts + 1, last_error = \(attempt.error), claim_token = NULL
                    WHERE id = \(report.messageId) AND claim_token = \(report.claimToken) AND state = 'pending' RETURNING 1
                    """,
                    logger: logger
                ).all { _ in 1 }.count
            }
            if changed == 1 {
                try await noteEndpointHealth(connection, report)
                try await dropStoredRatingLink(connection, report.messageId)
            }
            return try await connection.query(
                """
                SELECT state = 'active' AND outbound_disabled_at IS NULL AND outbound_url IS NOT NULL
                FROM integrations WHERE id = \(report.integrationId)
                """,
                logger: logger
            ).first { try $0.decode(Bool.self) } ?? false
        }
    }

    /// Removes a real rating link from a message once it is delivered or dead: a message written before links became
    /// placeholders (migration 0007 left pending ones their link so that they still reach the customer). Placeholders
    /// stay; they hold no secret, and a redelivery fills them in again.
    func dropStoredRatingLink(_ connection: PostgresConnection, _ messageId: String) async throws {
        try await connection.query(
            #"""
            UPDATE outbox_messages
            SET payload = convert_to(((convert_from(payload, 'UTF8')::jsonb) #- '{data,rating_url}')::text, 'UTF8')
            WHERE id = \#(messageId) AND state IN ('delivered', 'dead') AND event_type = 'question.resolved'
            AND (convert_from(payload, 'UTF8')::jsonb) #>> '{data,rating_url}' LIKE '%/v1/ratings/rt\_%'
            """#,
            logger: logger
        )
    }

    /// After an attempt whose result counted: success ends the failing run, 410 disables the endpoint, a failure
    /// starts or extends the run and disables the endpoint once it is long enough.
    func noteEndpointHealth(_ connection: PostgresConnection, _ report: AttemptReport) async throws {
        let now = report.attempt.at
        let id = report.integrationId
        switch report.disposition {
        case .delivered:
            try await connection.query(
                "UPDATE integrations SET failing_since = NULL WHERE id = \(id) AND failing_since IS NOT NULL", logger: logger
            )
        case .endpointGone:
            try await disableEndpoint(connection, id, reason: "the endpoint answered 410 Gone", at: now)
        case .retry, .deadLetter:
            let since = try await connection.query(
                """
                UPDATE integrations SET failing_since = COALESCE(failing_since, \(now.millisecondsSince1970))
                WHERE id = \(id) RETURNING failing_since
                """,
                logger: logger
            ).first { try $0.decode(Int64.self) }
            if let since, Double(now.millisecondsSince1970 - since) / 1000 >= report.failingLimit {
                let days = Int((report.failingLimit / 86400).rounded())
                try await disableEndpoint(
                    connection, id,
                    reason: "every attempt failed for \(days) days, since \(RFC3339.format(Date(millisecondsSince1970: since)))",
                    at: now
                )
            }
        }
    }

    public func delivery(id: String) async throws -> DeliveryRecord? {
        guard
            let message = try await client.query(
                PostgresQuery(unsafeSQL: "SELECT \(WebhookMessage.pgColumns) FROM outbox_messages m WHERE m.id = $1", binds: binds(id)),
                logger: logger
            ).first({ try WebhookMessage(pg: $0.makeRandomAccess()) })
        else { return nil }
        return DeliveryRecord(message: message, attempts: try await attempts([id])[id] ?? [])
    }

    public func deliveries(
        integrationId: String, state: DeliveryState?, before cursor: QuestionCursor?, limit: Int
    ) async throws -> [DeliveryRecord] {
        let messages = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(WebhookMessage.pgColumns) FROM outbox_messages m
                    WHERE m.integration_id = $1 AND ($2::text IS NULL OR m.state = $2)
                    AND ($3::text IS NULL OR (m.created_at, m.id) < ($4::bigint, $3::text))
                    ORDER BY m.created_at DESC, m.id DESC LIMIT $5
                    """,
                binds: binds(integrationId, state?.rawValue, cursor?.id, cursor?.createdAt.millisecondsSince1970, limit)
            ),
            logger: logger
        ).all { try WebhookMessage(pg: $0.makeRandomAccess()) }
        let attempts = try await attempts(messages.map(\.id))
        return messages.map { DeliveryRecord(message: $0, attempts: attempts[$0.id] ?? []) }
    }

    public func redeliver(messageId: String, at now: Date) async throws -> WebhookMessage {
        let ms = now.millisecondsSince1970
        let changed = try await client.query(
            """
            UPDATE outbox_messages SET state = 'pending', attempts = 0, next_attempt_at = \(ms), delivered_at = NULL,
            dead_at = NULL, claim_token = NULL
            WHERE id = \(messageId) AND integration_id IN (SELECT id FROM integrations WHERE state = 'active'
            AND outbound_disabled_at IS NULL AND outbound_url IS NOT NULL)
            AND (state <> 'pending' OR claim_token IS NULL OR next_attempt_at IS NULL OR next_attempt_at <= \(ms))
            RETURNING 1
            """,
            logger: logger
        ).all { _ in 1 }.count
        guard let record = try await delivery(id: messageId) else { throw PatenError.notFound("delivery", id: messageId) }
        if changed == 0 {
            let inFlight =
                try await client.query(
                    "SELECT claim_token IS NOT NULL AND next_attempt_at > \(ms) FROM outbox_messages WHERE id = \(messageId)",
                    logger: logger
                ).first { try $0.decode(Bool?.self) } ?? nil
            if inFlight == true, record.message.state == .pending {
                throw PatenError.conflict(
                    "delivery_in_flight", "Message \(messageId) is being sent right now; look again in a minute."
                )
            }
            throw PatenError.conflict(
                "outbound_disabled", "The integration of \(messageId) cannot send now; enable it or its endpoint first."
            )
        }
        return record.message
    }

    public func redeliver(integrationId: String, since: Date, at now: Date) async throws -> Int {
        try await client.query(
            """
            UPDATE outbox_messages SET state = 'pending', attempts = 0, next_attempt_at = \(now.millisecondsSince1970),
            delivered_at = NULL, dead_at = NULL, claim_token = NULL
            WHERE integration_id = \(integrationId) AND created_at >= \(since.millisecondsSince1970)
            AND state IN ('delivered', 'dead') AND integration_id IN (SELECT id FROM integrations WHERE state = 'active'
            AND outbound_disabled_at IS NULL AND outbound_url IS NOT NULL)
            RETURNING 1
            """,
            logger: logger
        ).all { _ in 1 }.count
    }

    public func messageCounts() async throws -> [DeliveryState: Int] {
        var counts: [DeliveryState: Int] = [:]
        for state in DeliveryState.allCases {
            counts[state] =
                try await client.query(
                    "SELECT COUNT(*) FROM outbox_messages WHERE state = \(state.rawValue)", logger: logger
                ).first { try $0.decode(Int.self) } ?? 0
        }
        return counts
    }

    public func purgeMessages(deliveredBefore: Date, deadBefore: Date) async throws -> Int {
        let (delivered, dead) = (deliveredBefore.millisecondsSince1970, deadBefore.millisecondsSince1970)
        return try await transaction { connection in
            let doomed = try await connection.query(
                """
                SELECT id FROM outbox_messages
                WHERE (state = 'delivered' AND COALESCE(delivered_at, dead_at) < \(delivered))
                OR (state = 'dead' AND COALESCE(delivered_at, dead_at) < \(dead))
                FOR UPDATE SKIP LOCKED
                """,
                logger: logger
            ).all { try $0.decode(String.self) }
            guard !doomed.isEmpty else { return 0 }
            try await connection.query("DELETE FROM delivery_attempts WHERE message_id = ANY(\(doomed))", logger: logger)
            try await connection.query("DELETE FROM outbox_messages WHERE id = ANY(\(doomed))", logger: logger)
            return doomed.count
        }
    }

    func attempts(_ messageIds: [String]) async throws -> [String: [DeliveryAttempt]] {
        guard !messageIds.isEmpty else { return [:] }
        var result: [String: [DeliveryAttempt]] = [:]
        for try await row in try await client.query(
            """
            SELECT message_id, attempt, attempted_at, outcome, status_code, latency_ms, error FROM delivery_attempts
            WHERE message_id = ANY(\(messageIds)) ORDER BY message_id, attempt
            """,
            logger: logger
        ) {
            let row = row.makeRandomAccess()
            result[try row.value("message_id", as: String.self), default: []].append(try DeliveryAttempt(pg: row))
        }
        return result
    }
}

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
        details: [String: String], escalation: Escalation? = nil, question known: Question? = nil,
        subscribers knownSubscribers: [OutboundSubscriber]? = nil
    ) async throws {
        var subscribers = knownSubscribers ?? []
        if knownSubscribers == nil { subscribers = try await outboundSubscribers(connection) }
        guard !subscribers.isEmpty else { return }
        var found = known
        if found == nil {
            found = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT \(Question.pgColumns) FROM questions WHERE id = $1", binds: binds(questionId)),
                logger: logger
            ).first(Question.init(pg:))
        }
        guard let question = found else { throw PatenError.notFound("question", id: questionId) }
        let deliveries = OutboundFanOut.deliveries(type, questionChannel: question.channel, subscribers: subscribers)
        guard !deliveries.isEmpty else { return }
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
        for delivery in deliveries {
            let payload = Data(delivery.toOrigin ? own : shared)
            try await connection.query(
                """
                INSERT INTO outbox_messages (id, integration_id, event_type, question_id, payload, created_at, state,
                next_attempt_at) VALUES (\(Self.messageIds.make("msg")), \(delivery.integrationId), \(type.rawValue),
                \(questionId), \(payload), \(ms), 'pending', \(delivery.waits ? nil : ms))
                """,
                logger: logger
            )
        }
    }

    /// The integrations that may receive outbound events.
    func outboundSubscribers(_ connection: PostgresConnection) async throws -> [OutboundSubscriber] {
        try await connection.query(
            """
            SELECT id, events, all_channels, outbound_disabled_at IS NOT NULL FROM integrations
            WHERE state = 'active' AND outbound_url IS NOT NULL
            """,
            logger: logger
        ).all { row in
            let (id, events, allChannels, paused) = try row.decode((String, String, Bool, Bool).self)
            return OutboundSubscriber(
                id: id, events: try OutboundEventType.parse(storedList: events), allChannels: allChannels, paused: paused
            )
        }
    }

    static let messageIds = TimeOrderedIdentifierGenerator()
}
