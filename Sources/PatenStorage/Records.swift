import Foundation
import GRDB
import PatenCore

// Database conformances of the domain types: rows to values. Columns are listed next to each type so that
// every query selects the same set.

extension Helper: FetchableRecord {
    static let columns =
        "id, handle, display_name, role, skills, languages, capacity, presence, active, created_at, updated_at, paused_at"

    public init(row: Row) throws {
        self.init(
            id: row["id"], handle: row["handle"], displayName: row["display_name"],
            role: try StoredValue.decode(Role.self, row["role"]), skills: try StoredValue.list(row["skills"]),
            languages: try StoredValue.list(row["languages"]), capacity: row["capacity"],
            presence: (row["paused_at"] as Int64?) != nil ? .paused : try StoredValue.decode(Presence.self, row["presence"]),
            active: row["active"],
            createdAt: Date(millisecondsSince1970: row["created_at"]),
            updatedAt: Date(millisecondsSince1970: row["updated_at"])
        )
    }
}

extension AccessToken: FetchableRecord {
    static let columns = "id, helper_id, label, secret_prefix, created_at, last_used_at, revoked_at"

    public init(row: Row) throws {
        self.init(
            id: row["id"], helperId: row["helper_id"], label: row["label"], prefix: row["secret_prefix"],
            createdAt: Date(millisecondsSince1970: row["created_at"]),
            lastUsedAt: StoredValue.date(row["last_used_at"]), revokedAt: StoredValue.date(row["revoked_at"])
        )
    }
}

extension Question: FetchableRecord {
    static let columns = """
        id, subject, customer_id, customer_name, channel, topic, language, priority, tier, state, holder_id, \
        lease_expires_at, peer_deadline_at, first_response_at, resolved_at, resolved_by, created_by, created_at, \
        updated_at
        """

    /// Reads a row whose first columns are `columns`, in that order (every question query selects them first):
    /// by position, since looking columns up by name costs a case-insensitive search per column on hot paths.
    public init(row: Row) throws {
        self.init(
            id: row[0], subject: row[1], customer: Customer(id: row[2], name: row[3]), channel: row[4],
            topic: row[5], language: row[6], priority: try StoredValue.decode(Priority.self, row[7]),
            tier: try StoredValue.decode(Tier.self, row[8]), state: try StoredValue.decode(QuestionState.self, row[9]),
            holderId: row[10], leaseExpiresAt: StoredValue.date(row[11]), peerDeadlineAt: StoredValue.date(row[12]),
            firstResponseAt: StoredValue.date(row[13]), resolvedAt: StoredValue.date(row[14]), resolvedBy: row[15],
            createdBy: row[16], createdAt: Date(millisecondsSince1970: row[17]),
            updatedAt: Date(millisecondsSince1970: row[18])
        )
    }
}

extension Message: FetchableRecord {
    static let columns = "id, question_id, author_kind, helper_id, body, created_at"

    public init(row: Row) throws {
        self.init(
            id: row["id"], questionId: row["question_id"],
            authorKind: try StoredValue.decode(AuthorKind.self, row["author_kind"]), helperId: row["helper_id"],
            body: row["body"], createdAt: Date(millisecondsSince1970: row["created_at"])
        )
    }
}

extension QuestionEvent: FetchableRecord {
    static let columns = "seq, question_id, type, actor_id, at, data"

    public init(row: Row) throws {
        self.init(
            sequence: row["seq"], questionId: row["question_id"],
            type: try StoredValue.decode(QuestionEventType.self, row["type"]), actorId: row["actor_id"],
            at: Date(millisecondsSince1970: row["at"]), data: try StoredValue.dictionary(row["data"])
        )
    }
}

/// Conversions between stored column values and domain values.
enum StoredValue {
    static func decode<T: RawRepresentable>(_ type: T.Type, _ raw: String) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: raw) else {
            throw PatenError(.unavailable, code: "corrupt_row", message: "Stored value '\(raw)' is not a \(T.self).")
        }
        return value
    }

    static func date(_ ms: Int64?) -> Date? { ms.map(Date.init(millisecondsSince1970:)) }

    static func list(_ json: String) throws -> [String] {
        try JSONDecoder().decode([String].self, from: Data(json.utf8))
    }

    static func dictionary(_ json: String) throws -> [String: String] {
        try JSONDecoder().decode([String: String].self, from: Data(json.utf8))
    }

    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // Encoding [String] cannot fail.
        return (try? encoder.encode(value)).flatMap { String(data: $0, encoding: .utf8) } ?? "null"
    }

    /// A flat string map as a JSON object with sorted keys, written directly: event data is on every write path.
    static func json(_ value: [String: String]) -> String {
        var out = "{"
        for (index, key) in value.keys.sorted().enumerated() {
            if index > 0 { out += "," }
            out += JSONText.quoted(key) + ":" + JSONText.quoted(value[key] ?? "")
        }
        return out + "}"
    }
}

extension Integration: FetchableRecord {
    static let columns = """
        i.id, h.handle, i.kind, i.state, i.inbound_enabled, i.outbound_url, i.events, i.all_channels, \
        i.outbound_disabled_at, i.outbound_disabled_reason, i.failing_since, i.created_at, i.updated_at
        """
    /// Integrations with their account's handle; append a WHERE clause.
    static let selection = "SELECT \(columns) FROM integrations i JOIN helpers h ON h.id = i.id"

    public init(row: Row) throws {
        self.init(
            id: row["id"], name: row["handle"], kind: try StoredValue.decode(IntegrationKind.self, row["kind"]),
            state: try StoredValue.decode(IntegrationState.self, row["state"]), inboundEnabled: row["inbound_enabled"],
            outboundURL: row["outbound_url"], events: try OutboundEventType.parse(storedList: row["events"]),
            allChannels: row["all_channels"], outboundDisabledAt: StoredValue.date(row["outbound_disabled_at"]),
            outboundDisabledReason: row["outbound_disabled_reason"], failingSince: StoredValue.date(row["failing_since"]),
            createdAt: Date(millisecondsSince1970: row["created_at"]),
            updatedAt: Date(millisecondsSince1970: row["updated_at"])
        )
    }
}

extension SealedSecret: FetchableRecord {
    static let columns = "id, sealed, created_at, expires_at"

    public init(row: Row) throws {
        let sealed: Data = row["sealed"]
        self.init(
            id: row["id"], sealed: Array(sealed), createdAt: Date(millisecondsSince1970: row["created_at"]),
            expiresAt: StoredValue.date(row["expires_at"])
        )
    }
}

extension WebhookMessage: FetchableRecord {
    static let columns = """
        id, integration_id, event_type, question_id, payload, created_at, state, attempts, next_attempt_at, \
        delivered_at, dead_at, last_error
        """

    public init(row: Row) throws {
        let payload: Data = row["payload"]
        self.init(
            id: row["id"], integrationId: row["integration_id"], eventType: row["event_type"],
            questionId: row["question_id"], payload: Array(payload),
            createdAt: Date(millisecondsSince1970: row["created_at"]),
            state: try StoredValue.decode(DeliveryState.self, row["state"]), attempts: row["attempts"],
            nextAttemptAt: StoredValue.date(row["next_attempt_at"]), deliveredAt: StoredValue.date(row["delivered_at"]),
            deadAt: StoredValue.date(row["dead_at"]), lastError: row["last_error"]
        )
    }
}

extension DeliveryAttempt: FetchableRecord {
    static let columns = "attempt, attempted_at, outcome, status_code, latency_ms, error"

    public init(row: Row) throws {
        self.init(
            attempt: row["attempt"], at: Date(millisecondsSince1970: row["attempted_at"]),
            outcome: try StoredValue.decode(AttemptOutcome.self, row["outcome"]), statusCode: row["status_code"],
            latencyMs: row["latency_ms"], error: row["error"]
        )
    }
}
