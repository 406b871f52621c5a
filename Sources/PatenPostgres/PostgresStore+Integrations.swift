import Foundation
import PatenCore
import PostgresNIO

extension Integration {
    static let pgSelection = """
        SELECT i.id, h.handle, i.kind, i.state, i.inbound_enabled, i.outbound_url, i.events, i.all_channels,
        i.outbound_disabled_at, i.outbound_disabled_reason, i.failing_since, i.created_at, i.updated_at
        FROM integrations i JOIN helpers h ON h.id = i.id
        """

    init(pg row: PostgresRow) throws {
        let row = row.makeRandomAccess()
        self.init(
            id: try row.value("id"), name: try row.value("handle"), kind: try row.decoded("kind", as: IntegrationKind.self),
            state: try row.decoded("state", as: IntegrationState.self), inboundEnabled: try row.value("inbound_enabled"),
            outboundURL: try row.value("outbound_url", as: String?.self),
            events: try OutboundEventType.parse(storedList: try row.value("events", as: String.self)),
            allChannels: try row.value("all_channels"),
            outboundDisabledAt: try row.optionalDate("outbound_disabled_at"),
            outboundDisabledReason: try row.value("outbound_disabled_reason", as: String?.self),
            failingSince: try row.optionalDate("failing_since"), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at")
        )
    }
}

extension SealedSecret {
    static let pgColumns = "id, sealed, created_at, expires_at"

    init(pg row: PostgresRow) throws {
        let row = row.makeRandomAccess()
        self.init(
            id: try row.value("id"), sealed: Array(try row.value("sealed", as: Data.self)),
            createdAt: try row.date("created_at"), expiresAt: try row.optionalDate("expires_at")
        )
    }
}

extension PostgresStore: IntegrationRepository {
    public func insertIntegration(_ integration: Integration, account: Helper, secret: SealedSecret) async throws {
        do {
            try await transaction { connection in
                try await connection.query(Self.insertion(account), logger: logger)
                try await connection.query(
                    """
                    INSERT INTO integrations (id, kind, state, inbound_enabled, outbound_url, events, all_channels,
                    created_at, updated_at) VALUES (\(integration.id), \(integration.kind.rawValue),
                    \(integration.state.rawValue), \(integration.inboundEnabled), \(integration.outboundURL),
                    \(OutboundEventType.storedList(integration.events)), \(integration.allChannels),
                    \(integration.createdAt.millisecondsSince1970), \(integration.updatedAt.millisecondsSince1970))
                    """,
                    logger: logger
                )
                try await insertSecret(connection, integration.id, secret)
                try await audit(
                    connection, integration.id, "integration.created", at: integration.createdAt,
                    "\(integration.kind.rawValue) integration \(integration.name)"
                )
            }
        } catch let error as PSQLError where error.isUniqueViolation {
            throw PatenError.conflict("handle_taken", "The handle '\(account.handle)' is taken; choose another.")
        }
    }

    public func integration(id: String) async throws -> Integration? {
        try await client.query(
            PostgresQuery(unsafeSQL: "\(Integration.pgSelection) WHERE i.id = $1", binds: binds(id)), logger: logger
        ).first(Integration.init(pg:))
    }

    public func integrations() async throws -> [Integration] {
        try await client.query(PostgresQuery(unsafeSQL: "\(Integration.pgSelection) ORDER BY h.handle"), logger: logger)
            .all(Integration.init(pg:))
    }

    public func integrationDetail(id: String) async throws -> IntegrationDetail? {
        guard let integration = try await integration(id: id) else { return nil }
        let secrets = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(SealedSecret.pgColumns) FROM integration_secrets WHERE integration_id = $1
                    ORDER BY created_at DESC, id DESC LIMIT 10
                    """,
                binds: binds(id)
            ),
            logger: logger
        ).all(SealedSecret.init(pg:))
        let audit = try await client.query(
            "SELECT type, at, detail FROM integration_events WHERE integration_id = \(id) ORDER BY seq DESC LIMIT 50",
            logger: logger
        ).all { row in
            let (type, at, detail) = try row.decode((String, Int64, String).self)
            return IntegrationAuditEvent(type: type, at: Date(millisecondsSince1970: at), detail: detail)
        }
        var counts: [DeliveryState: Int] = [:]
        for try await (state, count) in try await client.query(
            "SELECT state, COUNT(*) FROM outbox_messages WHERE integration_id = \(id) GROUP BY state", logger: logger
        ).decode((String, Int).self) {
            if let state = DeliveryState(rawValue: state) { counts[state] = count }
        }
        return IntegrationDetail(integration: integration, secrets: secrets, audit: audit, messageCounts: counts)
    }

    public func activeSecrets(integrationId: String, at now: Date) async throws -> [SealedSecret] {
        try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(SealedSecret.pgColumns) FROM integration_secrets
                    WHERE integration_id = $1 AND (expires_at IS NULL OR expires_at > $2)
                    ORDER BY created_at DESC, id DESC
                    """,
                binds: binds(integrationId, now.millisecondsSince1970)
            ),
            logger: logger
        ).all(SealedSecret.init(pg:))
    }

    public func updateIntegration(id: String, change: IntegrationChange, at now: Date) async throws -> Integration {
        let ms = now.millisecondsSince1970
        let logger = logger
        try await transaction { connection in
            // Lock order, in every transaction that locks more than one of these rows: the integration's row first,
            // then its secrets, then its outbox messages, then their delivery attempts. Recording an attempt
            // (`finishAttempt`) and changing, rotating or disabling an integration all follow it, so they wait for
            // each other instead of deadlocking. (`NO KEY`: changes that merely write rows referencing the
            // integration, such as a question's outbox message, need not wait.)
            guard
                let current = try await connection.query(
                    PostgresQuery(unsafeSQL: "\(Integration.pgSelection) WHERE i.id = $1 FOR NO KEY UPDATE OF i", binds: binds(id)),
                    logger: logger
                ).first(Integration.init(pg:))
            else { throw PatenError.notFound("integration", id: id) }
            var notes: [String] = []
            if let inbound = change.inboundEnabled {
                try await connection.query("UPDATE integrations SET inbound_enabled = \(inbound) WHERE id = \(id)", logger: logger)
                notes.append("inbound \(inbound ? "on" : "off")")
            }
            if let url = change.outboundURL {
                try await connection.query(
                    "UPDATE integrations SET outbound_url = \(url), failing_since = NULL WHERE id = \(id)", logger: logger
                )
                try await dropClaims(connection, id)
                notes.append("outbound_url \(url ?? "removed")")
            }
            if let events = change.events {
                try await connection.query(
                    "UPDATE integrations SET events = \(OutboundEventType.storedList(events)) WHERE id = \(id)", logger: logger
                )
                notes.append("events \(events.map(\.rawValue).joined(separator: ","))")
            }
            if let all = change.allChannels {
                try await connection.query("UPDATE integrations SET all_channels = \(all) WHERE id = \(id)", logger: logger)
                notes.append("all_channels \(all)")
            }
            if !notes.isEmpty {
                try await audit(connection, id, "integration.updated", at: now, notes.joined(separator: "; "))
            }
            if let state = change.state, state != current.state {
                try await connection.query("UPDATE integrations SET state = \(state.rawValue) WHERE id = \(id)", logger: logger)
                try await connection.query(
                    "UPDATE helpers SET active = \(state == .active), updated_at = \(ms) WHERE id = \(id)", logger: logger
                )
                try await audit(connection, id, "integration.\(state == .active ? "enabled" : "disabled")", at: now, "by an admin")
            }
            if let enabled = change.outboundEnabled {
                if enabled, current.outboundDisabledAt != nil {
                    try await connection.query(
                        """
                        UPDATE integrations SET outbound_disabled_at = NULL, outbound_disabled_reason = NULL,
                        failing_since = NULL WHERE id = \(id)
                        """,
                        logger: logger
                    )
                    try await audit(connection, id, "endpoint.enabled", at: now, "by an admin")
                } else if !enabled, current.outboundDisabledAt == nil {
                    try await disableEndpoint(connection, id, reason: "disabled by an admin", at: now)
                }
            }
            try await connection.query("UPDATE integrations SET updated_at = \(ms) WHERE id = \(id)", logger: logger)
            // Waiting messages move when, and only when, the endpoint can take them.
            try await connection.query(
                """
                UPDATE outbox_messages SET next_attempt_at = \(ms)
                WHERE integration_id = \(id) AND state = 'pending' AND next_attempt_at IS NULL
                AND EXISTS (SELECT 1 FROM integrations WHERE id = \(id) AND state = 'active'
                AND outbound_disabled_at IS NULL AND outbound_url IS NOT NULL)
                """,
                logger: logger
            )
            try await connection.query(
                """
                UPDATE outbox_messages SET next_attempt_at = NULL, claim_token = NULL
                WHERE integration_id = \(id) AND state = 'pending' AND NOT EXISTS (SELECT 1 FROM integrations
                WHERE id = \(id) AND state = 'active' AND outbound_disabled_at IS NULL AND outbound_url IS NOT NULL)
                """,
                logger: logger
            )
        }
        guard let updated = try await integration(id: id) else { throw PatenError.notFound("integration", id: id) }
        return updated
    }

    public func rotateSecret(integrationId: String, secret: SealedSecret, previousValidUntil: Date) async throws {
        let until = previousValidUntil.millisecondsSince1970
        try await transaction { connection in
            try await lockIntegration(connection, integrationId)
            try await connection.query(
                """
                UPDATE integration_secrets SET expires_at = LEAST(COALESCE(expires_at, \(until)), \(until))
                WHERE integration_id = \(integrationId)
                AND (expires_at IS NULL OR expires_at > \(secret.createdAt.millisecondsSince1970))
                """,
                logger: logger
            )
            try await insertSecret(connection, integrationId, secret)
            try await dropClaims(connection, integrationId)
            try await audit(
                connection, integrationId, "secret.rotated", at: secret.createdAt,
                "previous secret valid until \(RFC3339.format(previousValidUntil))"
            )
        }
    }

    public func revokePreviousSecrets(integrationId: String, at now: Date) async throws -> Int {
        let ms = now.millisecondsSince1970
        return try await transaction { connection in
            try await lockIntegration(connection, integrationId)
            let ended = try await connection.query(
                """
                UPDATE integration_secrets SET expires_at = \(ms)
                WHERE integration_id = \(integrationId) AND expires_at IS NOT NULL AND expires_at > \(ms)
                RETURNING id
                """,
                logger: logger
            ).all { _ in 1 }.count
            try await dropClaims(connection, integrationId)
            try await audit(connection, integrationId, "secret.previous_revoked", at: now, "\(ended) previous secret(s) ended")
            return ended
        }
    }

    public func conversationQuestion(integrationId: String, conversationId: String) async throws -> String? {
        try await client.query(
            """
            SELECT question_id FROM conversations WHERE integration_id = \(integrationId)
            AND conversation_id = \(conversationId)
            """,
            logger: logger
        ).first { try $0.decode(String.self) }
    }

    public func hasReceipt(integrationId: String, webhookId: String) async throws -> Bool {
        try await client.query(
            "SELECT 1 FROM webhook_receipts WHERE integration_id = \(integrationId) AND webhook_id = \(webhookId)",
            logger: logger
        ).first { _ in true } ?? false
    }

    public func purgeReceipts(before time: Date) async throws -> Int {
        try await client.query(
            "DELETE FROM webhook_receipts WHERE received_at < \(time.millisecondsSince1970) RETURNING 1", logger: logger
        ).all { _ in 1 }.count
    }

    // Statements run inside the caller's transaction.

    /// Takes the integration's row lock, the first in the lock order (see `updateIntegration`).
    func lockIntegration(_ connection: PostgresConnection, _ integrationId: String) async throws {
        try await connection.query("SELECT 1 FROM integrations WHERE id = \(integrationId) FOR NO KEY UPDATE", logger: logger)
    }

    func insertSecret(_ connection: PostgresConnection, _ integrationId: String, _ secret: SealedSecret) async throws {
        try await connection.query(
            """
            INSERT INTO integration_secrets (id, integration_id, sealed, created_at, expires_at)
            VALUES (\(secret.id), \(integrationId), \(Data(secret.sealed)), \(secret.createdAt.millisecondsSince1970),
            \(secret.expiresAt?.millisecondsSince1970))
            """,
            logger: logger
        )
    }

    func audit(
        _ connection: PostgresConnection, _ integrationId: String, _ type: String, at now: Date, _ detail: String
    ) async throws {
        try await connection.query(
            """
            INSERT INTO integration_events (integration_id, type, at, detail)
            VALUES (\(integrationId), \(type), \(now.millisecondsSince1970), \(detail))
            """,
            logger: logger
        )
    }

    func dropClaims(_ connection: PostgresConnection, _ integrationId: String) async throws {
        try await connection.query(
            """
            UPDATE outbox_messages SET claim_token = NULL
            WHERE integration_id = \(integrationId) AND state = 'pending' AND claim_token IS NOT NULL
            """,
            logger: logger
        )
    }

    /// Stops sending to an integration's endpoint; its messages wait until an admin enables it again.
    func disableEndpoint(_ connection: PostgresConnection, _ integrationId: String, reason: String, at now: Date) async throws {
        let ms = now.millisecondsSince1970
        let changed = try await connection.query(
            """
            UPDATE integrations SET outbound_disabled_at = \(ms), outbound_disabled_reason = \(reason), updated_at = \(ms)
            WHERE id = \(integrationId) AND outbound_disabled_at IS NULL RETURNING 1
            """,
            logger: logger
        ).all { _ in 1 }.count
        guard changed == 1 else { return }
        try await audit(connection, integrationId, "endpoint.disabled", at: now, reason)
        try await connection.query(
            """
            UPDATE outbox_messages SET next_attempt_at = NULL, claim_token = NULL
            WHERE integration_id = \(integrationId) AND state = 'pending'
            """,
            logger: logger
        )
    }
}
