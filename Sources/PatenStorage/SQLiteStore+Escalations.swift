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
            guard escalation.state == .open else {
                throw PatenError.conflict(
                    "escalation_not_open", "Escalation \(id) is \(escalation.state.rawValue), not open; nothing to acknowledge."
                )
            }
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
            guard escalation.state != .resolved else {
                throw PatenError.conflict("escalation_resolved", "Escalation \(id) is already resolved.")
            }
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

extension SQLiteStore {
    public func escalate(
        questionId: String, by actor: Helper, level: Int, note: String, context: ChangeContext
    )
        async throws -> Escalation
    {
        let now = context.now
        return try await pool.write { db in
            var question = try Self.requireQuestion(db, questionId)
            try Self.endExpiredClaim(db, &question, context: context)
            let reason = try QuestionRules.checkEscalate(question, by: actor, at: now)
            if question.tier == .volunteer {
                try Self.moveToStaff(db, &question, endingClaimAs: reason == .handoff ? .handoff : .moved, context: context)
            }
            guard
                let escalation = try Self.raiseEscalation(
                    db, question, reason, level: level, note: note, actor: actor.id, context: context
                )
            else {
                throw PatenError.conflict(
                    "already_escalated",
                    "Question \(questionId) already has a \(reason.rawValue) escalation at level \(level)."
                )
            }
            return escalation
        }
    }

    public func sweep(context: ChangeContext, limit: Int) async throws -> SweepOutcome {
        let now = context.now
        return try await pool.write { db in
            var outcome = SweepOutcome()
            let due = try db.fetchAll(
                Row.self,

                sql: """
                    SELECT question_id, target, status, due_at FROM sla_timers
                    WHERE next_check_at IS NOT NULL AND next_check_at <= ?
                    ORDER BY next_check_at LIMIT ?
                    """,
                arguments: [now.millisecondsSince1970, limit]
            )
            for row in due {
                outcome.examined += 1
                var question = try Self.requireQuestion(db, row["question_id"])
                let target = try StoredValue.decode(SLATarget.self, row["target"])
                let status = try StoredValue.decode(SLAStatus.self, row["status"])
                let dueAt = Date(millisecondsSince1970: row["due_at"])
                if target == .peerWindow {
                    // Unanswered: never answered, or a follow-up that no helper has answered yet.
                    let waiting = try Int64.fetchOne(
                        db, sql: "SELECT awaiting_reply_since FROM questions WHERE id = ?", arguments: [question.id]
                    )
                    let unanswered = question.firstResponseAt == nil || waiting != nil
                    guard question.tier == .volunteer, question.state != .resolved, unanswered else {
                        try Self.endTimers(db, question.id, [.peerWindow], as: .stopped, at: now)
                        continue
                    }
                    try Self.endTimers(db, question.id, [.peerWindow], as: .breached, at: now)
                    try Self.moveToStaff(db, &question, endingClaimAs: .moved, context: context)
                    try Self.raiseEscalation(
                        db, question, .peerWindowExpired, note: "No volunteer answered within the peer window.",
                        actor: nil, context: context
                    )
                    outcome.movedToStaff += 1
                } else if dueAt <= now {
                    try db.run(
                        sql: """
                            UPDATE sla_timers SET status = 'breached', next_check_at = NULL
                            WHERE question_id = ? AND target = ?
                            """,
                        arguments: [question.id, target.rawValue]
                    )
                    if target == .nextResponse {
                        try db.run(
                            sql: "UPDATE questions SET next_response_breaches = next_response_breaches + 1 WHERE id = ?",
                            arguments: [question.id]
                        )
                    }
                    try Self.record(
                        db, .slaBreached, question.id, actor: nil, at: now,
                        ["target": target.rawValue, "due_at": String(dueAt.millisecondsSince1970)]
                    )
                    try Self.raiseEscalation(
                        db, question, .slaBreached, note: "The \(target.rawValue) target was breached.", actor: nil,
                        context: context
                    )
                    outcome.breaches += 1
                } else if status == .running {
                    try db.run(
                        sql: """
                            UPDATE sla_timers SET status = 'warned', next_check_at = due_at
                            WHERE question_id = ? AND target = ?
                            """,
                        arguments: [question.id, target.rawValue]
                    )
                    try Self.record(
                        db, .slaWarning, question.id, actor: nil, at: now,
                        ["target": target.rawValue, "due_at": String(dueAt.millisecondsSince1970)]
                    )
                    try Self.raiseEscalation(
                        db, question, .slaWarning,
                        note: "The \(target.rawValue) target is due at \(dueAt.formatted(.iso8601)).", actor: nil,
                        context: context
                    )
                    outcome.warnings += 1
                }
            }
            return outcome
        }
    }
}

extension SQLiteStore: RatingRepository {
    public func rate(tokenHash: String, score: Int, comment: String?, context: ChangeContext) async throws -> Rating {
        let now = context.now
        // Anyone may post a made-up token: look it up on a reader first, so guesses never queue for the one writer.
        let known = try await pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM ratings WHERE token_hash = ?", arguments: [tokenHash]) ?? false
        }
        guard known else {
            throw PatenError(.notFound, code: "rating_not_found", message: "This rating link is not valid.")
        }
        return try await pool.write { db in
            guard
                let row = try db.fetchOne(
                    Row.self,

                    sql: """
                        SELECT question_id, token_expires_at, helper_id, helper_tier, score FROM ratings
                        WHERE token_hash = ?
                        """,
                    arguments: [tokenHash]
                )
            else { throw PatenError(.notFound, code: "rating_not_found", message: "This rating link is not valid.") }
            let questionId: String = row["question_id"]
            try RatingRules.checkLink(
                used: (row["score"] as Int?) != nil, expiresAt: Date(millisecondsSince1970: row["token_expires_at"]),
                at: now
            )
            try db.run(
                sql: "UPDATE ratings SET score = ?, comment = ?, rated_at = ? WHERE question_id = ?",
                arguments: [score, comment, now.millisecondsSince1970, questionId]
            )
            let rating = Rating(
                questionId: questionId, score: score, comment: comment, helperId: row["helper_id"],
                helperTier: (row["helper_tier"] as String?).flatMap(Tier.init(rawValue:)), ratedAt: now
            )
            try Self.record(
                db, .rated, questionId, actor: nil, at: now,
                ["score": String(score), "helper_id": rating.helperId ?? "", "helper_tier": rating.helperTier?.rawValue ?? ""]
            )
            if RatingRules.escalates(score) {
                let question = try Self.requireQuestion(db, questionId)
                try Self.raiseEscalation(
                    db, question, .lowRating, note: "The customer rated the answer \(score) of 5.", actor: nil,
                    context: context
                )
            }
            return rating
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

    /// Records an escalation once per question, reason and level; returns it when new, nil when it already existed.
    @discardableResult
    static func raiseEscalation(
        _ db: Database, _ question: Question, _ reason: EscalationReason, level: Int? = nil, note: String?,
        actor: String?, context: ChangeContext
    ) throws -> Escalation? {
        let id = context.ids.make("esc")
        let level = level ?? reason.defaultLevel
        let now = context.now.millisecondsSince1970
        try db.run(
            sql: """
                INSERT INTO escalations (id, question_id, reason, level, state, note, created_by, created_at, updated_at)
                VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?)
                ON CONFLICT (question_id, reason, level) DO NOTHING
                """,
            arguments: [id, question.id, reason.rawValue, level, note, actor, now, now]
        )
        guard db.changesCount == 1 else { return nil }
        try recordChange(db, id, .created, at: context.now)
        try record(
            db, .escalated, question.id, actor: actor, at: context.now,
            ["escalation_id": id, "reason": reason.rawValue, "level": String(level)]
        )
        return try requireEscalation(db, id)
    }

    static func recordChange(_ db: Database, _ id: String, _ kind: EscalationChange.Kind, at now: Date) throws {
        try db.run(
            sql: "INSERT INTO escalation_changes (escalation_id, kind, at) VALUES (?, ?, ?)",
            arguments: [id, kind.rawValue, now.millisecondsSince1970]
        )
    }

    /// Moves a volunteer-tier question to staff: ends any claim, stops the peer window, starts the staff clocks.
    static func moveToStaff(
        _ db: Database, _ question: inout Question, endingClaimAs end: ClaimEnd, reason: String? = nil,
        context: ChangeContext
    )
        throws
    {
        let now = context.now
        let holder = question.holderId
        try endClaim(db, question.id, reason: end, at: now)
        try db.run(
            sql: """
                UPDATE questions SET tier = 'staff', moved_to_staff_at = ?, updated_at = ?,
                state = CASE WHEN state = 'claimed' THEN 'open' ELSE state END,
                holder_id = NULL, lease_expires_at = NULL
                WHERE id = ?
                """,
            arguments: [now.millisecondsSince1970, now.millisecondsSince1970, question.id]
        )
        try endTimers(db, question.id, [.peerWindow], as: .stopped, at: now)
        let timers = context.planner.staffArrival(
            priority: question.priority, at: now, alreadyAnswered: question.firstResponseAt != nil
        )
        for timer in timers { try startTimer(db, question.id, timer) }
        let waiting = try db.fetchOne(
            Int64.self, sql: "SELECT awaiting_reply_since FROM questions WHERE id = ?", arguments: [question.id]
        )
        if waiting != nil, question.firstResponseAt != nil,
            let timer = context.planner.staffTimer(.nextResponse, priority: question.priority, from: now)
        {
            try startTimer(db, question.id, timer)
        }
        question = try requireQuestion(db, question.id)
        var data = ["tier": "staff", "reason": reason ?? (end == .handoff ? "handoff" : "moved")]
        data["former_holder_id"] = holder
        try record(db, .routed, question.id, actor: nil, at: now, data)
    }

    /// Acts on what a customer's follow-up names: a critical matter makes the question critical and escalates it;
    /// a critical matter or a staff-only topic moves a volunteer-tier question to staff.
    static func applyFollowUpRouting(
        _ db: Database, _ question: inout Question, _ routing: FollowUpRouting, context: ChangeContext
    ) throws {
        guard routing.movesToStaff else { return }
        question = try requireQuestion(db, question.id)
        if routing.critical && question.priority != .critical {
            try db.run(
                sql: "UPDATE questions SET priority = 'critical', priority_rank = ?, updated_at = ? WHERE id = ?",
                arguments: [Priority.critical.rank, context.now.millisecondsSince1970, question.id]
            )
            question.priority = .critical
        }
        if question.tier == .volunteer {
            try moveToStaff(db, &question, endingClaimAs: .moved, reason: routing.reason, context: context)
        }
        if routing.critical {
            try raiseEscalation(
                db, question, .criticalIntake, note: "A customer follow-up names a critical matter.", actor: nil,
                context: context
            )
        }
    }

    /// Starts (or restarts) a clock; with `onlyIfEnded`, a clock that is still running is left alone.
    static func startTimer(_ db: Database, _ questionId: String, _ timer: SLATimer, onlyIfEnded: Bool = false) throws {
        let guardClause = onlyIfEnded ? "WHERE sla_timers.ended_at IS NOT NULL" : ""
        try db.run(
            sql: """
                INSERT INTO sla_timers (question_id, target, started_at, warn_at, due_at, next_check_at, status)
                VALUES (?, ?, ?, ?, ?, ?, 'running')
                ON CONFLICT (question_id, target) DO UPDATE SET
                started_at = excluded.started_at, warn_at = excluded.warn_at, due_at = excluded.due_at,
                next_check_at = excluded.next_check_at, status = 'running', ended_at = NULL
                \(guardClause)
                """,
            arguments: [
                questionId, timer.target.rawValue, timer.startedAt.millisecondsSince1970,
                timer.warnAt?.millisecondsSince1970, timer.dueAt.millisecondsSince1970,
                timer.firstCheck.millisecondsSince1970,
            ]
        )
    }

    /// Ends live clocks; a clock already breached keeps that status, since a late answer does not undo a breach.
    static func endTimers(
        _ db: Database, _ questionId: String, _ targets: [SLATarget], as status: SLAStatus, at now: Date
    )
        throws
    {
        try db.run(
            sql: """
                UPDATE sla_timers SET status = CASE WHEN status = 'breached' THEN 'breached' ELSE ? END,
                next_check_at = NULL, ended_at = ?
                WHERE question_id = ? AND ended_at IS NULL AND target IN (\(placeholders(targets.count)))
                """,
            arguments: StatementArguments(
                [status.rawValue, now.millisecondsSince1970, questionId] + targets.map(\.rawValue)
                    as [(any DatabaseValueConvertible)?]
            )
        )
    }

    /// Issues the rating link unless the question was rated already; true when issued. The rating is attributed to
    /// the helper whose reply came last (the one that resolved it), else to the resolver.
    static func issueRating(
        _ db: Database, _ question: Question, _ grant: RatingGrant, resolver: Helper
    )
        throws -> Bool
    {
        let lastReplier = try db.fetchOne(
            String.self,

            sql: """
                SELECT helper_id FROM messages WHERE question_id = ? AND author_kind = 'helper'
                ORDER BY created_at DESC, rowid DESC LIMIT 1
                """,
            arguments: [question.id]
        )
        let helperId = lastReplier ?? (resolver.role.answersQuestions ? resolver.id : nil)
        let role = try helperId.flatMap { try db.fetchOne(String.self, sql: "SELECT role FROM helpers WHERE id = ?", arguments: [$0]) }
        let tier: String? = role.map { $0 == Role.volunteer.rawValue ? Tier.volunteer.rawValue : Tier.staff.rawValue }
        try db.run(
            sql: """
                INSERT INTO ratings (question_id, token_hash, token_expires_at, issued_at, helper_id, helper_tier)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (question_id) DO UPDATE SET
                token_hash = excluded.token_hash, token_expires_at = excluded.token_expires_at,
                issued_at = excluded.issued_at, helper_id = excluded.helper_id, helper_tier = excluded.helper_tier
                WHERE ratings.score IS NULL
                """,
            arguments: [
                question.id, grant.tokenHash, grant.expiresAt.millisecondsSince1970,
                grant.issuedAt.millisecondsSince1970, helperId, tier,
            ]
        )
        return db.changesCount == 1
    }
}
