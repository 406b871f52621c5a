import Foundation
import PatenCore
import PostgresNIO

extension Escalation {
    static let pgSelection = """
        SELECT e.id, e.question_id, e.reason, e.level, e.state, e.note, e.created_by, e.created_at, e.acknowledged_at,
        e.acknowledged_by, e.resolved_at, e.resolved_by, e.updated_at, q.subject, q.topic, q.priority
        FROM escalations e JOIN questions q ON q.id = e.question_id
        """

    init(pg row: PostgresRow) throws {
        let row = row.makeRandomAccess()
        self.init(
            id: try row.value("id"), questionId: try row.value("question_id"),
            reason: try row.decoded("reason", as: EscalationReason.self), level: try row.value("level", as: Int.self),
            state: try row.decoded("state", as: EscalationState.self), note: try row.value("note", as: String?.self),
            createdBy: try row.value("created_by", as: String?.self), createdAt: try row.date("created_at"),
            acknowledgedAt: try row.optionalDate("acknowledged_at"),
            acknowledgedBy: try row.value("acknowledged_by", as: String?.self),
            resolvedAt: try row.optionalDate("resolved_at"), resolvedBy: try row.value("resolved_by", as: String?.self),
            updatedAt: try row.date("updated_at"), questionSubject: try row.value("subject"),
            questionTopic: try row.value("topic"), questionPriority: try row.decoded("priority", as: Priority.self)
        )
    }
}

extension PostgresStore: EscalationRepository {
    public func escalations(matching filter: EscalationFilter, at now: Date) async throws -> [Escalation] {
        try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    \(Escalation.pgSelection)
                    WHERE ($1::text IS NULL OR e.state = $1) AND ($2::bigint IS NULL OR e.level = $2)
                    AND ($3::text IS NULL OR e.reason = $3) AND ($4::bigint IS NULL OR e.created_at <= $4)
                    AND ($5::text IS NULL OR e.question_id = $5)
                    ORDER BY e.created_at DESC, e.id DESC LIMIT $6
                    """,
                binds: binds(
                    filter.state?.rawValue, filter.level, filter.reason?.rawValue,
                    filter.minimumAge.map { now.addingTimeInterval(-$0).millisecondsSince1970 }, filter.questionId,
                    filter.limit
                )
            ),
            logger: logger
        ).all(Escalation.init(pg:))
    }

    public func escalation(id: String) async throws -> Escalation? {
        try await fetchEscalation(client, id)
    }

    public func acknowledgeEscalation(id: String, by actor: Helper, at now: Date) async throws -> Escalation {
        let ms = now.millisecondsSince1970
        return try await transaction { connection in
            let escalation = try await lockEscalation(connection, id)
            try EscalationRules.checkAcknowledge(escalation)
            try await connection.query(
                """
                UPDATE escalations SET state = 'acknowledged', acknowledged_at = \(ms), acknowledged_by = \(actor.id),
                updated_at = \(ms) WHERE id = \(id)
                """,
                logger: logger
            )
            return try await recordChange(connection, id, .acknowledged, by: actor, at: now)
        }
    }

    public func resolveEscalation(id: String, by actor: Helper, at now: Date) async throws -> Escalation {
        let ms = now.millisecondsSince1970
        return try await transaction { connection in
            let escalation = try await lockEscalation(connection, id)
            try EscalationRules.checkResolve(escalation)
            try await connection.query(
                """
                UPDATE escalations SET state = 'resolved', resolved_at = \(ms), resolved_by = \(actor.id),
                updated_at = \(ms), acknowledged_at = COALESCE(acknowledged_at, \(ms)),
                acknowledged_by = COALESCE(acknowledged_by, \(actor.id)) WHERE id = \(id)
                """,
                logger: logger
            )
            return try await recordChange(connection, id, .resolved, by: actor, at: now)
        }
    }

    public func escalationChanges(after sequence: Int64, limit: Int) async throws -> [EscalationChange] {
        let rows = try await client.query(
            "SELECT seq, escalation_id, kind FROM escalation_changes WHERE seq > \(sequence) ORDER BY seq LIMIT \(limit)",
            logger: logger
        ).all { try $0.decode((Int64, String, String).self) }
        var changes: [EscalationChange] = []
        for (seq, id, kind) in rows {
            guard let kind = EscalationChange.Kind(rawValue: kind), let escalation = try await fetchEscalation(client, id)
            else { throw PatenError(.unavailable, code: "corrupt_row", message: "Escalation change \(seq) is not readable.") }
            changes.append(EscalationChange(sequence: seq, kind: kind, escalation: escalation))
        }
        return changes
    }

    public func latestEscalationChange() async throws -> Int64 {
        try await client.query("SELECT COALESCE(MAX(seq), 0) FROM escalation_changes", logger: logger).first {
            try $0.decode(Int64.self)
        } ?? 0
    }

    public func unresolvedEscalationCounts() async throws -> [Int: Int] {
        var counts: [Int: Int] = [:]
        for try await (level, count) in try await client.query(
            "SELECT level, COUNT(*) FROM escalations WHERE state <> 'resolved' GROUP BY level", logger: logger
        ).decode((Int, Int).self) {
            counts[level] = count
        }
        return counts
    }

    // Statements run inside the caller's transaction.

    func fetchEscalation(_ client: PostgresClient, _ id: String) async throws -> Escalation? {
        try await client.query(
            PostgresQuery(unsafeSQL: "\(Escalation.pgSelection) WHERE e.id = $1", binds: binds(id)), logger: logger
        ).first(Escalation.init(pg:))
    }

    /// The escalation, its row locked until the transaction ends, so concurrent changes apply one at a time.
    func lockEscalation(_ connection: PostgresConnection, _ id: String) async throws -> Escalation {
        guard
            let escalation = try await connection.query(
                PostgresQuery(unsafeSQL: "\(Escalation.pgSelection) WHERE e.id = $1 FOR UPDATE OF e", binds: binds(id)),
                logger: logger
            ).first(Escalation.init(pg:))
        else { throw PatenError.notFound("escalation", id: id) }
        return escalation
    }

    /// Notes the change in the live feed and the outbox; returns the escalation as it now stands.
    func recordChange(
        _ connection: PostgresConnection, _ id: String, _ kind: EscalationChange.Kind, by actor: Helper, at now: Date
    ) async throws -> Escalation {
        try await appendChange(connection, id, kind, at: now.millisecondsSince1970)
        guard
            let changed = try await connection.query(
                PostgresQuery(unsafeSQL: "\(Escalation.pgSelection) WHERE e.id = $1", binds: binds(id)), logger: logger
            ).first(Escalation.init(pg:))
        else { throw PatenError.notFound("escalation", id: id) }
        let event: OutboundEventType = kind == .resolved ? .escalationResolved : .escalationAcknowledged
        try await publish(
            connection, event, questionId: changed.questionId, actor: actor.id, at: now, details: [:], escalation: changed
        )
        return changed
    }
}
