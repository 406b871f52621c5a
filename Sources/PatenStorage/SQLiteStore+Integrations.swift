import Foundation
import GRDB
import PatenCore

extension SQLiteStore: IntegrationRepository {
    public func insertIntegration(_ integration: Integration, account: Helper, secret: SealedSecret) async throws {
        try await pool.write { db in
            try Self.insertHelper(db, account)
            try db.run(
                sql: """
                    INSERT INTO integrations (id, kind, state, inbound_enabled, outbound_url, events, all_channels,
                    created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    integration.id, integration.kind.rawValue, integration.state.rawValue, integration.inboundEnabled,
                    integration.outboundURL, OutboundEventType.storedList(integration.events), integration.allChannels,
                    integration.createdAt.millisecondsSince1970, integration.updatedAt.millisecondsSince1970,
                ]
            )
            try Self.insertSecret(db, integration.id, secret)
            try Self.audit(
                db, integration.id, "integration.created", at: integration.createdAt,
                "\(integration.kind.rawValue) integration \(integration.name)"
            )
        }
    }

    public func integration(id: String) async throws -> Integration? {
        try await pool.read { db in try Self.fetchIntegration(db, id) }
    }

    public func integrations() async throws -> [Integration] {
        try await pool.read { db in
            try db.fetchAll(Integration.self, sql: "\(Integration.selection) ORDER BY h.handle")
        }
    }

    public func integrationDetail(id: String) async throws -> IntegrationDetail? {
        try await pool.read { db in
            guard let integration = try Self.fetchIntegration(db, id) else { return nil }
            let secrets = try db.fetchAll(
                SealedSecret.self,
                sql: """
                    SELECT \(SealedSecret.columns) FROM integration_secrets WHERE integration_id = ?
                    ORDER BY created_at DESC, id DESC LIMIT 10
                    """,
                arguments: [id]
            )
            let audit = try db.fetchAll(
                Row.self,
                sql: "SELECT type, at, detail FROM integration_events WHERE integration_id = ? ORDER BY seq DESC LIMIT 50",
                arguments: [id]
            ).map { IntegrationAuditEvent(type: $0["type"], at: Date(millisecondsSince1970: $0["at"]), detail: $0["detail"]) }
            var counts: [DeliveryState: Int] = [:]
            for row in try db.fetchAll(
                Row.self, sql: "SELECT state, COUNT(*) AS n FROM outbox_messages WHERE integration_id = ? GROUP BY state",
                arguments: [id]
            ) {
                counts[try StoredValue.decode(DeliveryState.self, row["state"])] = row["n"]
            }
            return IntegrationDetail(integration: integration, secrets: secrets, audit: audit, messageCounts: counts)
        }
    }

    public func activeSecrets(integrationId: String, at now: Date) async throws -> [SealedSecret] {
        try await pool.read { db in try Self.activeSecrets(db, integrationId, at: now) }
    }

    public func updateIntegration(id: String, change: IntegrationChange, at now: Date) async throws -> Integration {
        try await pool.write { db in
            guard let current = try Self.fetchIntegration(db, id) else { throw PatenError.notFound("integration", id: id) }
            let ms = now.millisecondsSince1970
            var notes: [String] = []
            if let inbound = change.inboundEnabled {
                try db.run(sql: "UPDATE integrations SET inbound_enabled = ? WHERE id = ?", arguments: [inbound, id])
                notes.append("inbound \(inbound ? "on" : "off")")
            }
            if let url = change.outboundURL {
                // A new address starts with a clean record, and attempts under way to the old one lose their claim.
                try db.run(
                    sql: "UPDATE integrations SET outbound_url = ?, failing_since = NULL WHERE id = ?", arguments: [url, id]
                )
                try Self.dropClaims(db, id)
                notes.append("outbound_url \(url ?? "removed")")
            }
            if let events = change.events {
                try db.run(
                    sql: "UPDATE integrations SET events = ? WHERE id = ?",
                    arguments: [OutboundEventType.storedList(events), id]
                )
                notes.append("events \(events.map(\.rawValue).joined(separator: ","))")
            }
            if let all = change.allChannels {
                try db.run(sql: "UPDATE integrations SET all_channels = ? WHERE id = ?", arguments: [all, id])
                notes.append("all_channels \(all)")
            }
            if notes.isEmpty == false {
                try Self.audit(db, id, "integration.updated", at: now, notes.joined(separator: "; "))
            }
            if let state = change.state, state != current.state {
                // The account follows the integration: a disabled integration's tokens stop working too.
                try db.run(
                    sql: "UPDATE integrations SET state = ? WHERE id = ?", arguments: [state.rawValue, id]
                )
                try db.run(
                    sql: "UPDATE helpers SET active = ?, updated_at = ? WHERE id = ?",
                    arguments: [state == .active, ms, id]
                )
                try Self.audit(db, id, "integration.\(state == .active ? "enabled" : "disabled")", at: now, "by an admin")
            }
            if let enabled = change.outboundEnabled {
                if enabled, current.outboundDisabledAt != nil {
                    try db.run(
                        sql: """
                            UPDATE integrations SET outbound_disabled_at = NULL, outbound_disabled_reason = NULL,
                            failing_since = NULL WHERE id = ?
                            """,
                        arguments: [id]
                    )
                    try Self.audit(db, id, "endpoint.enabled", at: now, "by an admin")
                } else if !enabled, current.outboundDisabledAt == nil {
                    try Self.disableEndpoint(db, id, reason: "disabled by an admin", at: now)
                }
            }
            try db.run(sql: "UPDATE integrations SET updated_at = ? WHERE id = ?", arguments: [ms, id])
            guard let updated = try Self.fetchIntegration(db, id) else { throw PatenError.notFound("integration", id: id) }
            // Waiting messages move when, and only when, the endpoint can take them.
            if updated.state == .active, updated.outboundDisabledAt == nil, updated.outboundURL != nil {
                try db.run(
                    sql: """
                        UPDATE outbox_messages SET next_attempt_at = ?
                        WHERE integration_id = ? AND state = 'pending' AND next_attempt_at IS NULL
                        """,
                    arguments: [ms, id]
                )
            } else {
                try Self.pauseMessages(db, id)
            }
            return updated
        }
    }

    public func rotateSecret(integrationId: String, secret: SealedSecret, previousValidUntil: Date) async throws {
        try await pool.write { db in
            let until = previousValidUntil.millisecondsSince1970
            try db.run(
                sql: """
                    UPDATE integration_secrets SET expires_at = MIN(COALESCE(expires_at, ?), ?)
                    WHERE integration_id = ? AND (expires_at IS NULL OR expires_at > ?)
                    """,
                arguments: [until, until, integrationId, secret.createdAt.millisecondsSince1970]
            )
            try Self.insertSecret(db, integrationId, secret)
            try Self.dropClaims(db, integrationId)
            try Self.audit(
                db, integrationId, "secret.rotated", at: secret.createdAt,
                "previous secret valid until \(RFC3339.format(previousValidUntil))"
            )
        }
    }

    public func revokePreviousSecrets(integrationId: String, at now: Date) async throws -> Int {
        try await pool.write { db in
            let ms = now.millisecondsSince1970
            try db.run(
                sql: """
                    UPDATE integration_secrets SET expires_at = ?
                    WHERE integration_id = ? AND expires_at IS NOT NULL AND expires_at > ?
                    """,
                arguments: [ms, integrationId, ms]
            )
            let ended = db.changesCount
            try Self.dropClaims(db, integrationId)
            try Self.audit(db, integrationId, "secret.previous_revoked", at: now, "\(ended) previous secret(s) ended")
            return ended
        }
    }

    public func conversationQuestion(integrationId: String, conversationId: String) async throws -> String? {
        try await pool.read { db in
            try db.fetchOne(
                String.self,
                sql: "SELECT question_id FROM conversations WHERE integration_id = ? AND conversation_id = ?",
                arguments: [integrationId, conversationId]
            )
        }
    }

    public func hasReceipt(integrationId: String, webhookId: String) async throws -> Bool {
        try await pool.read { db in
            try db.fetchOne(
                Int.self, sql: "SELECT 1 FROM webhook_receipts WHERE integration_id = ? AND webhook_id = ?",
                arguments: [integrationId, webhookId]
            ) != nil
        }
    }

    public func purgeReceipts(before time: Date) async throws -> Int {
        try await pool.write { db in
            try db.run(
                sql: "DELETE FROM webhook_receipts WHERE received_at < ?", arguments: [time.millisecondsSince1970]
            )
            return db.changesCount
        }
    }
}

// Statements shared with the question and outbox transactions.
extension SQLiteStore {
    static func fetchIntegration(_ db: Database, _ id: String) throws -> Integration? {
        try db.fetchOne(Integration.self, sql: "\(Integration.selection) WHERE i.id = ?", arguments: [id])
    }

    static func activeSecrets(_ db: Database, _ integrationId: String, at now: Date) throws -> [SealedSecret] {
        try db.fetchAll(
            SealedSecret.self,
            sql: """
                SELECT \(SealedSecret.columns) FROM integration_secrets
                WHERE integration_id = ? AND (expires_at IS NULL OR expires_at > ?)
                ORDER BY created_at DESC, id DESC
                """,
            arguments: [integrationId, now.millisecondsSince1970]
        )
    }

    static func insertSecret(_ db: Database, _ integrationId: String, _ secret: SealedSecret) throws {
        try db.run(
            sql: "INSERT INTO integration_secrets (id, integration_id, sealed, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [
                secret.id, integrationId, Data(secret.sealed), secret.createdAt.millisecondsSince1970,
                secret.expiresAt?.millisecondsSince1970,
            ]
        )
    }

    static func audit(_ db: Database, _ integrationId: String, _ type: String, at now: Date, _ detail: String) throws {
        try db.run(
            sql: "INSERT INTO integration_events (integration_id, type, at, detail) VALUES (?, ?, ?, ?)",
            arguments: [integrationId, type, now.millisecondsSince1970, detail]
        )
    }

    /// Stops sending to an integration's endpoint; its messages wait until an admin enables it again.
    static func disableEndpoint(_ db: Database, _ integrationId: String, reason: String, at now: Date) throws {
        try db.run(
            sql: """
                UPDATE integrations SET outbound_disabled_at = ?, outbound_disabled_reason = ?, updated_at = ?
                WHERE id = ? AND outbound_disabled_at IS NULL
                """,
            arguments: [now.millisecondsSince1970, reason, now.millisecondsSince1970, integrationId]
        )
        guard db.changesCount == 1 else { return }
        try audit(db, integrationId, "endpoint.disabled", at: now, reason)
        try pauseMessages(db, integrationId)
    }

    /// Ends the claims on an integration's messages, so attempts under way with an old address or old secrets
    /// do not count and the messages are claimed afresh (with the new ones) once their lease runs out.
    static func dropClaims(_ db: Database, _ integrationId: String) throws {
        try db.run(
            sql: """
                UPDATE outbox_messages SET claim_token = NULL
                WHERE integration_id = ? AND state = 'pending' AND claim_token IS NOT NULL
                """,
            arguments: [integrationId]
        )
    }

    static func pauseMessages(_ db: Database, _ integrationId: String) throws {
        try db.run(
            sql: """
                UPDATE outbox_messages SET next_attempt_at = NULL, claim_token = NULL
                WHERE integration_id = ? AND state = 'pending'
                """,
            arguments: [integrationId]
        )
    }

    /// Notes an inbound webhook id; a repeat is a `duplicate_webhook` conflict that rolls the transaction back.
    static func storeReceipt(_ db: Database, _ origin: InboundOrigin, questionId: String, at now: Date) throws {
        try db.run(
            sql: """
                INSERT INTO webhook_receipts (integration_id, webhook_id, received_at, question_id) VALUES (?, ?, ?, ?)
                ON CONFLICT (integration_id, webhook_id) DO NOTHING
                """,
            arguments: [origin.integrationId, origin.webhookId, now.millisecondsSince1970, questionId]
        )
        guard db.changesCount == 1 else {
            throw PatenError.conflict("duplicate_webhook", "Webhook \(origin.webhookId) was received before.")
        }
    }

    static func startConversation(_ db: Database, _ origin: InboundOrigin, questionId: String, at now: Date) throws {
        try db.run(
            sql: """
                INSERT INTO conversations (integration_id, conversation_id, question_id, created_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (integration_id, conversation_id) DO NOTHING
                """,
            arguments: [origin.integrationId, origin.conversationId, questionId, now.millisecondsSince1970]
        )
        guard db.changesCount == 1 else {
            throw PatenError.conflict(
                "conversation_exists", "Conversation \(origin.conversationId) already has a question."
            )
        }
    }
}
