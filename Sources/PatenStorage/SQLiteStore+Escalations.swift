import Foundation
import GRDB
import PatenCore

extension Escalation: FetchableRecord {
    /// Escalation columns with the question's subject, topic and priority; alias `e` for escalations, `q` for
    /// questions.
    static let selection = """
        SELECT e.id, e.question_id, e.reason, e.level, e.state, e.note, e.created_by, e.created_at, e.acknowledged_at,
        e.acknowledged_by, e.resolved_at, e.resolved_by, e.updated_at, q.subject, q.topic, q.priority
        FROM escalations e JOIN questions q ON q.id = e.question_id
        """

    public init(row: Row) throws {
        self.init(
            id: row["id"], questionId: row["question_id"],
            reason: try StoredValue.decode(EscalationReason.self, row["reason"]), level: row["level"],
            state: try StoredValue.decode(EscalationState.self, row["state"]), note: row["note"],
            createdBy: row["created_by"], createdAt: Date(millisecondsSince1970: row["created_at"]),
            acknowledgedAt: StoredValue.date(row["acknowledged_at"]), acknowledgedBy: row["acknowledged_by"],
            resolvedAt: StoredValue.date(row["resolved_at"]), resolvedBy: row["resolved_by"],
            updatedAt: Date(millisecondsSince1970: row["updated_at"]), questionSubject: row["subject"],
            questionTopic: row["topic"], questionPriority: try StoredValue.decode(Priority.self, row["priority"])
        )
    }
}

extension SQLiteStore: EscalationRepository {
    public func escalations(matching filter: EscalationFilter, at now: Date) async throws -> [Escalation] {
        var conditions: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let state = filter.state {
            conditions.append("e.state = ?")
            arguments.append(state.rawValue)
        }
        if let level = filter.level {
            conditions.append("e.level = ?")
            arguments.append(level)
        }
        if let reason = filter.reason {
            conditions.append("e.reason = ?")
            arguments.append(reason.rawValue)
        }
        if let age = filter.minimumAge {
            conditions.append("e.created_at <= ?")
            arguments.append(now.addingTimeInterval(-age).millisecondsSince1970)
        }
        if let questionId = filter.questionId {
            conditions.append("e.question_id = ?")
            arguments.append(questionId)
        }
        arguments.append(filter.limit)
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let bound = StatementArguments(arguments)
        return try await pool.read { db in
            try db.fetchAll(
                Escalation.self,
                sql: "\(Escalation.selection) \(whereClause) ORDER BY e.created_at DESC, e.id DESC LIMIT ?",
                arguments: bound
            )
        }
    }

    public func escalation(id: String) async throws -> Escalation? {
        try await pool.read { db in try Self.fetchEscalation(db, id) }
    }

    public func acknowledgeEscalation(id: String, by actor: Helper, at now: Date) async throws -> Escalation {
        try await pool.write { db in
            let escalation = try Self.requireEscalation(db, id)
            try EscalationRules.checkAcknowledge(escalation)
            try db.run(
                sql: """
                    UPDATE escalations SET state = 'acknowledged', acknowledged_at = ?, acknowledged_by = ?, updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [now.millisecondsSince1970, actor.id, now.millisecondsSince1970, id]
            )
            try Self.recordChange(db, id, .acknowledged, at: now)
            let changed = try Self.requireEscalation(db, id)
            try Self.publish(
                db, .escalationAcknowledged, questionId: changed.questionId, actor: actor.id, at: now, details: [:],
                escalation: changed
            )
            return changed
        }
    }

    public func resolveEscalation(id: String, by actor: Helper, at now: Date) async throws -> Escalation {
        try await pool.write { db in
            let escalation = try Self.requireEscalation(db, id)
            try EscalationRules.checkResolve(escalation)
            try db.run(
                sql: """
                    UPDATE escalations SET state = 'resolved', resolved_at = ?, resolved_by = ?, updated_at = ?,
                    acknowledged_at = COALESCE(acknowledged_at, ?), acknowledged_by = COALESCE(acknowledged_by, ?)
                    WHERE id = ?
                    """,
                arguments: [
                    now.millisecondsSince1970, actor.id, now.millisecondsSince1970, now.millisecondsSince1970, actor.id,
                    id,
                ]
            )
            try Self.recordChange(db, id, .resolved, at: now)
            let changed = try Self.requireEscalation(db, id)
            try Self.publish(
                db, .escalationResolved, questionId: changed.questionId, actor: actor.id, at: now, details: [:],
                escalation: changed
            )
            return changed
        }
    }

    public func escalationChanges(after sequence: Int64, limit: Int) async throws -> [EscalationChange] {
        try await pool.read { db in
            let rows = try db.fetchAll(
                Row.self,
                sql: "SELECT seq, escalation_id, kind FROM escalation_changes WHERE seq > ? ORDER BY seq LIMIT ?",
                arguments: [sequence, limit]
            )
            return try rows.map { row in
                EscalationChange(
                    sequence: row["seq"], kind: try StoredValue.decode(EscalationChange.Kind.self, row["kind"]),
                    escalation: try Self.requireEscalation(db, row["escalation_id"])
                )
            }
        }
    }

    public func latestEscalationChange() async throws -> Int64 {
        try await pool.read { db in try db.fetchOne(Int64.self, sql: "SELECT MAX(seq) FROM escalation_changes") ?? 0 }
    }

    public func unresolvedEscalationCounts() async throws -> [Int: Int] {
        try await pool.read { db in
            let rows = try db.fetchAll(
                Row.self,
                sql: "SELECT level, COUNT(*) AS n FROM escalations WHERE state != 'resolved' GROUP BY level"
            )
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["level"], $0["n"]) })
        }
    }
}

// Statements shared by the transactions above and in SQLiteStore+Questions. Each runs inside the caller's
// transaction.
extension SQLiteStore {
    static func fetchEscalation(_ db: Database, _ id: String) throws -> Escalation? {
        try db.fetchOne(Escalation.self, sql: "\(Escalation.selection) WHERE e.id = ?", arguments: [id])
    }

    static func requireEscalation(_ db: Database, _ id: String) throws -> Escalation {
        guard let escalation = try fetchEscalation(db, id) else { throw PatenError.notFound("escalation", id: id) }
        return escalation
    }

    static func recordChange(_ db: Database, _ id: String, _ kind: EscalationChange.Kind, at now: Date) throws {
        try db.run(
            sql: "INSERT INTO escalation_changes (escalation_id, kind, at) VALUES (?, ?, ?)",
            arguments: [id, kind.rawValue, now.millisecondsSince1970]
        )
    }
}
