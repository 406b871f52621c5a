import Foundation
import GRDB
import PatenCore

extension SQLiteStore: OutboxRepository {
    public func claimDueMessages(
        at now: Date, lease: TimeInterval, limit: Int, excluding: Set<String>
    ) async throws -> [DueDelivery] {
        try await pool.write { db in
            let ms = now.millisecondsSince1970
            let messages = try db.fetchAll(
                WebhookMessage.self,
                sql: """
                    SELECT \(WebhookMessage.columns) FROM outbox_messages
                    WHERE state = 'pending' AND next_attempt_at <= ?
                    AND integration_id NOT IN (SELECT value FROM json_each(?))
                    ORDER BY next_attempt_at, rowid LIMIT ?
                    """,
                arguments: [ms, StoredValue.json(excluding.sorted()), limit]
            )
            guard !messages.isEmpty else { return [] }
            var due: [DueDelivery] = []
            var endpoints: [String: (url: String, secrets: [SealedSecret])?] = [:]
            for message in messages {
                if endpoints[message.integrationId] == nil {
                    let integration = try Self.fetchIntegration(db, message.integrationId)
                    if let integration, integration.state == .active, integration.outboundDisabledAt == nil,
                        let url = integration.outboundURL
                    {
                        endpoints[message.integrationId] = (url, try Self.activeSecrets(db, integration.id, at: now))
                    } else {
                        endpoints[message.integrationId] = .some(nil)
                        try Self.pauseMessages(db, message.integrationId)
                    }
                }
                guard let endpoint = endpoints[message.integrationId] ?? nil else { continue }
                // The lease: no other deliverer takes the message until the attempt has had time to end.
                let token = Self.messageIds.make("clm")
                try db.run(
                    sql: "UPDATE outbox_messages SET next_attempt_at = ?, claim_token = ? WHERE id = ?",
                    arguments: [now.addingTimeInterval(lease).millisecondsSince1970, token, message.id]
                )
                due.append(DueDelivery(message: message, url: endpoint.url, secrets: endpoint.secrets, claimToken: token))
            }
            return due
        }
    }

    public func renewClaims(_ tokens: [String], until: Date) async throws -> Set<String> {
        try await pool.write { db in
            var held: Set<String> = []
            for token in tokens {
                try db.run(
                    sql: """
                        UPDATE outbox_messages SET next_attempt_at = ?
                        WHERE claim_token = ? AND state = 'pending' AND next_attempt_at IS NOT NULL
                        """,
                    arguments: [until.millisecondsSince1970, token]
                )
                if db.changesCount == 1 { held.insert(token) }
            }
            return held
        }
    }

    public func releaseClaims(_ tokens: [String], nextAttemptAt: Date) async throws {
        try await pool.write { db in
            for token in tokens {
                try db.run(
                    sql: """
                        UPDATE outbox_messages SET claim_token = NULL, next_attempt_at = ?
                        WHERE claim_token = ? AND state = 'pending' AND next_attempt_at IS NOT NULL
                        """,
                    arguments: [nextAttemptAt.millisecondsSince1970, token]
                )
            }
        }
    }

    public func finishAttempt(_ report: AttemptReport) async throws -> Bool {
        try await pool.write { db in
            let attempt = report.attempt
            let now = attempt.at.millisecondsSince1970
            let number =
                try db.fetchOne(
                    Int.self, sql: "SELECT MAX(attempt) FROM delivery_attempts WHERE message_id = ?",
                    arguments: [report.messageId]
                ) ?? 0
            // The attempt happened, so it is logged; its result counts only while the claim holds.
            try db.run(
                sql: """
                    INSERT INTO delivery_attempts (message_id, attempt, attempted_at, outcome, status_code, latency_ms, error)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    report.messageId, number + 1, now, attempt.outcome.rawValue, attempt.statusCode, attempt.latencyMs,
                    attempt.error,
                ]
            )
            let claimed = "id = ? AND claim_token = ? AND state = 'pending'"
            switch report.disposition {
            case .delivered:
                try db.run(
                    sql: """
                        UPDATE outbox_messages SET state = 'delivered', delivered_at = ?, next_attempt_at = NULL,
                        attempts = attempts + 1, last_error = NULL, claim_token = NULL WHERE \(claimed)
                        """,
                    arguments: [now, report.messageId, report.claimToken]
                )
            case .retry(let next):
                // (A message paused meanwhile has lost its claim, so this does not touch it.)
                try db.run(
                    sql: """
                        UPDATE outbox_messages SET attempts = attempts + 1, last_error = ?, claim_token = NULL,
                        next_attempt_at = ? WHERE \(claimed)
                        """,
                    arguments: [attempt.error, next.millisecondsSince1970, report.messageId, report.claimToken]
                )
            case .deadLetter, .endpointGone:
                try db.run(
                    sql: """
                        UPDATE outbox_messages SET state = 'dead', dead_at = ?, next_attempt_at = NULL,
                        attempts = attempts + 1, last_error = ?, claim_token = NULL WHERE \(claimed)
                        """,
                    arguments: [now, attempt.error, report.messageId, report.claimToken]
                )
            }
            if db.changesCount == 1 {
                try Self.noteEndpointHealth(db, report)
                try Self.dropStoredRatingLink(db, report.messageId)
            }
            return try db.fetchOne(
                Bool.self,
                sql: """
                    SELECT state = 'active' AND outbound_disabled_at IS NULL AND outbound_url IS NOT NULL
                    FROM integrations WHERE id = ?
                    """,
                arguments: [report.integrationId]
            ) ?? false
        }
    }

    public func delivery(id: String) async throws -> DeliveryRecord? {
        try await pool.read { db in
            guard
                let message = try db.fetchOne(
                    WebhookMessage.self, sql: "SELECT \(WebhookMessage.columns) FROM outbox_messages WHERE id = ?",
                    arguments: [id]
                )
            else { return nil }
            return DeliveryRecord(message: message, attempts: try Self.attempts(db, [id])[id] ?? [])
        }
    }

    public func deliveries(
        integrationId: String, state: DeliveryState?, before cursor: QuestionCursor?, limit: Int
    ) async throws -> [DeliveryRecord] {
        try await pool.read { db in
            let messages = try db.fetchAll(
                WebhookMessage.self,
                sql: """
                    SELECT \(WebhookMessage.columns) FROM outbox_messages
                    WHERE integration_id = ? AND (? IS NULL OR state = ?) AND (? IS NULL OR (created_at, id) < (?, ?))
                    ORDER BY created_at DESC, id DESC LIMIT ?
                    """,
                arguments: [
                    integrationId, state?.rawValue, state?.rawValue, cursor?.id, cursor?.createdAt.millisecondsSince1970,
                    cursor?.id, limit,
                ]
            )
            let attempts = try Self.attempts(db, messages.map(\.id))
            return messages.map { DeliveryRecord(message: $0, attempts: attempts[$0.id] ?? []) }
        }
    }

    public func redeliver(messageId: String, at now: Date) async throws -> WebhookMessage {
        try await pool.write { db in
            try db.run(
                sql: """
                    UPDATE outbox_messages SET state = 'pending', attempts = 0, next_attempt_at = ?, delivered_at = NULL,
                    dead_at = NULL, claim_token = NULL
                    WHERE id = ? AND integration_id IN (\(Self.sendingIntegrations))
                    AND (state != 'pending' OR claim_token IS NULL OR next_attempt_at IS NULL OR next_attempt_at <= ?)
                    """,
                arguments: [now.millisecondsSince1970, messageId, now.millisecondsSince1970]
            )
            let changed = db.changesCount == 1
            guard
                let message = try db.fetchOne(
                    WebhookMessage.self, sql: "SELECT \(WebhookMessage.columns) FROM outbox_messages WHERE id = ?",
                    arguments: [messageId]
                )
            else { throw PatenError.notFound("delivery", id: messageId) }
            if !changed {
                // In flight: claimed, and the claim's lease still running (a stale claim does not block).
                let inFlight = try db.fetchOne(
                    Bool.self,
                    sql: "SELECT claim_token IS NOT NULL AND next_attempt_at > ? FROM outbox_messages WHERE id = ?",
                    arguments: [now.millisecondsSince1970, messageId]
                )
                if inFlight == true, message.state == .pending {
                    throw PatenError.conflict(
                        "delivery_in_flight", "Message \(messageId) is being sent right now; look again in a minute."
                    )
                }
                throw PatenError.conflict(
                    "outbound_disabled", "The integration of \(messageId) cannot send now; enable it or its endpoint first."
                )
            }
            return message
        }
    }

    public func redeliver(integrationId: String, since: Date, at now: Date) async throws -> Int {
        try await pool.write { db in
            try db.run(
                sql: """
                    UPDATE outbox_messages SET state = 'pending', attempts = 0, next_attempt_at = ?, delivered_at = NULL,
                    dead_at = NULL, claim_token = NULL
                    WHERE integration_id = ? AND created_at >= ? AND state IN ('delivered', 'dead')
                    AND integration_id IN (\(Self.sendingIntegrations))
                    """,
                arguments: [now.millisecondsSince1970, integrationId, since.millisecondsSince1970]
            )
            return db.changesCount
        }
    }
}

extension SQLiteStore {
    public func messageCounts() async throws -> [DeliveryState: Int] {
        try await pool.read { db in
            var counts: [DeliveryState: Int] = [:]
            for state in DeliveryState.allCases {
                counts[state] = try db.fetchOne(
                    Int.self, sql: "SELECT COUNT(*) FROM outbox_messages WHERE state = ?", arguments: [state.rawValue]
                )
            }
            return counts
        }
    }

    public func purgeMessages(deliveredBefore: Date, deadBefore: Date) async throws -> Int {
        try await pool.write { db in
            let doomed = """
                SELECT id FROM outbox_messages WHERE (state = 'delivered' AND COALESCE(delivered_at, dead_at) < ?)
                OR (state = 'dead' AND COALESCE(delivered_at, dead_at) < ?)
                """
            let arguments: StatementArguments = [
                deliveredBefore.millisecondsSince1970, deadBefore.millisecondsSince1970,
            ]
            try db.run(sql: "DELETE FROM delivery_attempts WHERE message_id IN (\(doomed))", arguments: arguments)
            try db.run(sql: "DELETE FROM outbox_messages WHERE id IN (\(doomed))", arguments: arguments)
            return db.changesCount
        }
    }
}

// The outbox side of every change: written inside the change's transaction.
extension SQLiteStore {
    static let messageIds = TimeOrderedIdentifierGenerator()

    /// Integrations whose endpoint takes messages now.
    static let sendingIntegrations = """
        SELECT id FROM integrations WHERE state = 'active' AND outbound_disabled_at IS NULL AND outbound_url IS NOT NULL
        """

    /// After an attempt whose result counted: a success ends the endpoint's failing run; 410 disables it; a
    /// failure starts or extends the run and disables the endpoint once the run is long enough.
    static func noteEndpointHealth(_ db: Database, _ report: AttemptReport) throws {
        let now = report.attempt.at
        switch report.disposition {
        case .delivered:
            try db.run(
                sql: "UPDATE integrations SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL",
                arguments: [report.integrationId]
            )
        case .endpointGone:
            try disableEndpoint(db, report.integrationId, reason: "the endpoint answered 410 Gone", at: now)
        case .retry, .deadLetter:
            try db.run(
                sql: "UPDATE integrations SET failing_since = COALESCE(failing_since, ?) WHERE id = ?",
                arguments: [now.millisecondsSince1970, report.integrationId]
            )
            let since = try db.fetchOne(
                Int64.self, sql: "SELECT failing_since FROM integrations WHERE id = ?", arguments: [report.integrationId]
            )
            if let since, Double(now.millisecondsSince1970 - since) / 1000 >= report.failingLimit {
                let days = Int((report.failingLimit / 86400).rounded())
                try disableEndpoint(
                    db, report.integrationId,
                    reason: "every attempt failed for \(days) days, since \(RFC3339.format(Date(millisecondsSince1970: since)))",
                    at: now
                )
            }
        }
    }

    /// The integrations that may receive outbound events.
    static func outboundSubscribers(_ db: Database) throws -> [OutboundSubscriber] {
        try db.fetchAll(
            Row.self,
            sql: """
                SELECT id, events, all_channels, outbound_disabled_at FROM integrations
                WHERE state = 'active' AND outbound_url IS NOT NULL
                """
        ).map { row in
            OutboundSubscriber(
                id: row[0], events: try OutboundEventType.parse(storedList: row[1]), allChannels: row[2],
                paused: (row[3] as Int64?) != nil
            )
        }
    }

    /// Writes the outbox messages `OutboundFanOut` decides for the event, in the caller's transaction; `known`
    /// subscribers save reading them again within one batch.
    static func publish(
        _ db: Database, _ type: OutboundEventType, questionId: String, actor: String?, at time: Date,
        details: [String: String], escalation: Escalation? = nil, question known: Question? = nil,
        subscribers knownSubscribers: [OutboundSubscriber]? = nil
    ) throws {
        let subscribers = try knownSubscribers ?? outboundSubscribers(db)
        guard !subscribers.isEmpty else { return }
        let question = try known ?? requireQuestion(db, questionId)
        let deliveries = OutboundFanOut.deliveries(type, questionChannel: question.channel, subscribers: subscribers)
        guard !deliveries.isEmpty else { return }
        let conversation = try db.fetchOne(
            String.self, sql: "SELECT conversation_id FROM conversations WHERE question_id = ? LIMIT 1",
            arguments: [questionId]
        )
        let account = try actor.flatMap {
            try db.fetchOne(Helper.self, sql: "SELECT \(Helper.columns) FROM helpers WHERE id = ?", arguments: [$0])
        }
        let message = try details["message_id"].flatMap {
            try db.fetchOne(Message.self, sql: "SELECT \(Message.columns) FROM messages WHERE id = ?", arguments: [$0])
        }
        let escalation = try escalation ?? details["escalation_id"].flatMap { try fetchEscalation(db, $0) }
        // The single-use rating link is the customer's: only the integration they wrote through gets it.
        let (shared, own) = try OutboundPayload.bodies(
            type, at: time, question: question, conversationId: conversation, actor: account, message: message,
            escalation: escalation, details: details
        )
        let ms = time.millisecondsSince1970
        for delivery in deliveries {
            try db.run(
                sql: """
                    INSERT INTO outbox_messages (id, integration_id, event_type, question_id, payload, created_at, state,
                    next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)
                    """,
                arguments: [
                    messageIds.make("msg"), delivery.integrationId, type.rawValue, questionId,
                    Data(delivery.toOrigin ? own : shared), ms, delivery.waits ? nil : ms,
                ]
            )
        }
    }

    /// Removes a real rating link from a message once it is delivered or dead: a message written before links became
    /// placeholders (migration 0007 left pending ones their link so that they still reach the customer). Placeholders
    /// stay; they hold no secret, and a redelivery fills them in again.
    static func dropStoredRatingLink(_ db: Database, _ messageId: String) throws {
        try db.run(
            sql: #"""
                UPDATE outbox_messages SET payload = CAST(json_remove(CAST(payload AS TEXT), '$.data.rating_url') AS BLOB)
                WHERE id = ? AND state IN ('delivered', 'dead') AND event_type = 'question.resolved'
                AND json_extract(CAST(payload AS TEXT), '$.data.rating_url') LIKE '%/v1/ratings/rt\_%' ESCAPE '\'
                """#,
            arguments: [messageId]
        )
    }

    static func attempts(_ db: Database, _ messageIds: [String]) throws -> [String: [DeliveryAttempt]] {
        guard !messageIds.isEmpty else { return [:] }
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT message_id, \(DeliveryAttempt.columns) FROM delivery_attempts
                WHERE message_id IN (\(placeholders(messageIds.count))) ORDER BY message_id, attempt
                """,
            arguments: StatementArguments(messageIds)
        )
        var result: [String: [DeliveryAttempt]] = [:]
        for row in rows {
            result[row["message_id"], default: []].append(try DeliveryAttempt(row: row))
        }
        return result
    }
}
