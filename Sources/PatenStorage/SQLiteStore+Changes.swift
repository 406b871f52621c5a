import Foundation
import GRDB
import PatenCore

// Question changes on SQLite: load the snapshot a command needs, let `QuestionCommands` decide, apply the change.
// SQLite has one writer, so the write transaction is the question's lock. No rule lives here: only how a change's
// parts are written, and the constraints that must hold whatever the rules say (one live claim per question, one
// escalation per question, reason and level, one receipt per webhook id).

extension QuestionRecord {
    /// The question's columns, then its tallies', in the order `init(sqlite:)` reads them.
    static let columns =
        Question.columns + """
            , awaiting_reply_since, moved_to_staff_at, claim_expiries, next_response_count, next_response_total_ms, \
            next_response_max_ms, next_response_breaches, staff_replies, volunteer_replies, credited_helper_id, \
            answer_id
            """

    init(sqlite row: Row) throws {
        self.init(
            question: try Question(row: row),
            tallies: QuestionTallies(
                awaitingReplySince: StoredValue.date(row[19]), movedToStaffAt: StoredValue.date(row[20]),
                claimExpiries: row[21], nextResponseCount: row[22], nextResponseTotalMs: row[23],
                nextResponseMaxMs: row[24], nextResponseBreaches: row[25], staffReplies: row[26], volunteerReplies: row[27],
                creditedHelperId: row[28], answerId: row[29]
            )
        )
    }
}

extension SQLiteStore: QuestionChangeStore {
    public func apply(
        questionId: String, needs: SnapshotNeeds, at now: Date,
        _ decide: @escaping @Sendable (QuestionSnapshot) throws -> QuestionChange
    ) async throws -> AppliedChange {
        do {
            return try await pool.write { db in
                let snapshot = try Self.snapshot(db, questionId, needs: needs, at: now)
                return try Self.apply(db, try decide(snapshot))
            }
        } catch let error as DatabaseError where error.isSecondClaim {
            // The one-holder index caught a claim the rules did not see; the other claim won.
            let holder = try await question(id: questionId)?.holderId
            let handle = try await holder.asyncFlatMap { try await self.helper(id: $0)?.handle } ?? "another helper"
            throw PatenError.conflict(
                "already_claimed", "Question \(questionId) is already claimed by \(handle).", details: ["holder": handle]
            )
        }
    }

    /// Nothing: on SQLite a refusal costs less in the writer's group (a savepoint among up to 64 changes) than a read
    /// transaction of its own on one of the five readers (measured: 64 racing claims per question, 2,891 req/s
    /// deciding every claim in the writer, 2,123 with a read first).
    public func peek(questionId: String, needs: SnapshotNeeds, at now: Date) async throws -> QuestionSnapshot? {
        nil
    }

    public func apply(
        ratingTokenHash: String, needs: SnapshotNeeds, at now: Date,
        _ decide: @escaping @Sendable (StoredRating, QuestionSnapshot) throws -> QuestionChange
    ) async throws -> AppliedChange {
        // Anyone may post a made-up token: look it up on a reader first, so guesses never queue for the one writer.
        let known = try await pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM ratings WHERE token_hash = ?", arguments: [ratingTokenHash]) ?? false
        }
        guard known else { throw Self.unknownRating }
        return try await pool.write { db in
            guard
                let row = try db.fetchOne(
                    Row.self,
                    sql: """
                        SELECT question_id, token_expires_at, helper_id, helper_tier, score FROM ratings
                        WHERE token_hash = ?
                        """,
                    arguments: [ratingTokenHash]
                )
            else { throw Self.unknownRating }
            let stored = StoredRating(
                questionId: row["question_id"], expiresAt: Date(millisecondsSince1970: row["token_expires_at"]),
                helperId: row["helper_id"], helperTier: (row["helper_tier"] as String?).flatMap(Tier.init(rawValue:)),
                score: row["score"]
            )
            let snapshot = try Self.snapshot(db, stored.questionId, needs: needs, rated: stored.helperId, at: now)
            return try Self.apply(db, try decide(stored, snapshot))
        }
    }

    public func applyDueClocks(
        at now: Date, limit: Int, _ decide: @escaping @Sendable (DueClock, QuestionSnapshot) -> QuestionChange
    ) async throws -> SweepOutcome {
        // Most passes find nothing: ask a reader first, so an idle pass never waits for (or takes) the writer.
        let anyDue = try await pool.read { db in
            try Bool.fetchOne(
                db,
                sql: "SELECT EXISTS (SELECT 1 FROM sla_timers WHERE next_check_at IS NOT NULL AND next_check_at <= ?)",
                arguments: [now.millisecondsSince1970]
            ) ?? false
        }
        guard anyDue else { return SweepOutcome() }
        return try await pool.write { db in
            // Each due clock with its question's row, in one read along the due-clock index.
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.qualified(QuestionRecord.columns)), t.target, t.status, t.due_at
                    FROM sla_timers t JOIN questions q ON q.id = t.question_id
                    WHERE t.next_check_at IS NOT NULL AND t.next_check_at <= ?
                    ORDER BY t.next_check_at LIMIT ?
                    """,
                arguments: [now.millisecondsSince1970, limit]
            )
            var outcome = SweepOutcome()
            var batch: [QuestionChange] = []
            var inBatch: Set<String> = []
            var latest: [String: QuestionRecord] = [:]
            for row in rows {
                let loaded = try QuestionRecord(sqlite: row)
                let id = loaded.question.id
                let clock = DueClock(
                    questionId: id, target: try StoredValue.decode(SLATarget.self, row[30]),
                    status: try StoredValue.decode(SLAStatus.self, row[31]), dueAt: Date(millisecondsSince1970: row[32])
                )
                // A second clock of a question already in the batch: apply the batch first (one change per question
                // and batch), and decide from the row as the first change left it.
                if inBatch.contains(id) {
                    outcome.add(try Self.applyBatch(db, batch))
                    batch = []
                    inBatch = []
                }
                inBatch.insert(id)
                let change = decide(clock, QuestionSnapshot(record: latest[id] ?? loaded))
                latest[id] = change.record
                batch.append(change)
            }
            outcome.add(try Self.applyBatch(db, batch))
            return outcome
        }
    }

    public func applyExpiredLeases(
        at now: Date, limit: Int, _ decide: @escaping @Sendable (QuestionSnapshot) -> QuestionChange
    ) async throws -> Int {
        try await pool.write { db in
            let records = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(QuestionRecord.columns) FROM questions WHERE state = 'claimed' AND lease_expires_at <= ?
                    ORDER BY lease_expires_at LIMIT ?
                    """,
                arguments: [now.millisecondsSince1970, limit]
            ).map(QuestionRecord.init(sqlite:))
            let ids = records.map(\.question.id)
            // Whose holder replied during the claim that ran out: those expiries do not count towards claim_expired.
            var replied: Set<String> = []
            for chunk in ids.chunked(Self.rowsPerStatement) {
                replied.formUnion(
                    try String.fetchAll(
                        db,
                        sql: """
                            SELECT DISTINCT c.question_id FROM claims c JOIN messages m ON m.question_id = c.question_id
                            WHERE c.question_id IN (\(placeholders(chunk.count))) AND c.ended_at IS NULL
                            AND m.helper_id = c.helper_id AND m.created_at >= c.claimed_at
                            """,
                        arguments: StatementArguments(Array(chunk))
                    )
                )
            }
            let changes = records.map { record in
                decide(QuestionSnapshot(record: record, expiredHolderReplied: replied.contains(record.question.id)))
            }
            _ = try Self.applyBatch(db, changes)
            return records.count
        }
    }
}

// Loading and applying. Each runs inside the caller's write transaction.
extension SQLiteStore {
    static let unknownRating = PatenError(.notFound, code: "rating_not_found", message: "This rating link is not valid.")

    /// The columns with the `q.` prefix.
    static func qualified(_ columns: String) -> String {
        columns.split(separator: ",").map { "q." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .joined(separator: ", ")
    }

    static func fetchRecord(_ db: Database, _ id: String) throws -> QuestionRecord? {
        try db.fetchOne(
            Row.self, sql: "SELECT \(QuestionRecord.columns) FROM questions WHERE id = ?", arguments: [id]
        ).map(QuestionRecord.init(sqlite:))
    }

    /// The question's row and the facts `needs` names, as the command's decision reads them.
    static func snapshot(
        _ db: Database, _ id: String, needs: SnapshotNeeds, rated: String? = nil, at now: Date
    ) throws -> QuestionSnapshot {
        guard let record = try fetchRecord(db, id) else { throw PatenError.notFound("question", id: id) }
        var snapshot = QuestionSnapshot(record: record)
        let question = record.question
        if question.state == .claimed, let expiry = question.leaseExpiresAt, expiry <= now {
            snapshot.expiredHolderReplied =
                try Bool.fetchOne(
                    db,
                    sql: """
                        SELECT EXISTS (SELECT 1 FROM messages m JOIN claims c ON c.question_id = m.question_id
                        WHERE c.question_id = ? AND c.ended_at IS NULL AND m.helper_id = c.helper_id
                        AND m.created_at >= c.claimed_at)
                        """,
                    arguments: [id]
                ) ?? false
        }
        if let helperId = needs.claimsOf {
            snapshot.activeClaims =
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM claims WHERE helper_id = ? AND ended_at IS NULL AND expires_at > ?",
                    arguments: [helperId, now.millisecondsSince1970]
                ) ?? 0
        }
        if needs.holderHandle, let holder = question.holderId {
            snapshot.holderHandle = try handles(db, [holder])[holder]
        }
        if needs.recentFollowUps {
            snapshot.recentFollowUps = try Int64.fetchAll(
                db,
                sql: """
                    SELECT created_at FROM messages WHERE question_id = ? AND author_kind = 'customer' AND created_at > ?
                    ORDER BY created_at DESC LIMIT ?
                    """,
                arguments: [id, now.addingTimeInterval(-60).millisecondsSince1970, QuestionRules.followUpsPerMinute]
            ).map(Date.init(millisecondsSince1970:))
        }
        if needs.resolution {
            if let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT m.helper_id, h.role, m.id FROM messages m JOIN helpers h ON h.id = m.helper_id
                    WHERE m.question_id = ? AND m.author_kind = 'helper' ORDER BY m.created_at DESC, m.rowid DESC LIMIT 1
                    """,
                arguments: [id]
            ) {
                snapshot.lastReplier = Replier(id: row[0], role: try StoredValue.decode(Role.self, row[1]), messageId: row[2])
            }
            snapshot.rated =
                try Bool.fetchOne(
                    db, sql: "SELECT score IS NOT NULL FROM ratings WHERE question_id = ?", arguments: [id]
                ) ?? false
        }
        if let answerId = needs.answerId,
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT m.helper_id, h.role FROM messages m JOIN helpers h ON h.id = m.helper_id
                    WHERE m.id = ? AND m.question_id = ? AND m.author_kind = 'helper'
                    """,
                arguments: [answerId, id]
            )
        {
            snapshot.answer = Replier(id: row[0], role: try StoredValue.decode(Role.self, row[1]), messageId: answerId)
        }
        if let standingNeeds = needs.standing,
            let whom = standingNeeds.helperId(in: snapshot, answerNamed: needs.answerId != nil, rated: rated),
            !standingNeeds.onlyIfClaimable || ProgrammeRules.mayClaim(question, by: whom, at: now)
        {
            snapshot.standing = try standing(db, helperId: whom, questionId: id, needs: standingNeeds, at: now)
        }
        if needs.texts {
            snapshot.texts = try redactableTexts(db, id)
        }
        return snapshot
    }

    /// Writes the change: the question's row (inserted, or updated when it changed), then each effect in order.
    static func apply(_ db: Database, _ change: QuestionChange) throws -> AppliedChange {
        let record = change.record
        let question = record.question
        if change.before == nil {
            try db.run(
                sql: """
                    INSERT INTO questions (\(Question.columns), priority_rank)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    question.id, question.subject, question.customer.id, question.customer.name, question.channel,
                    question.topic, question.language, question.priority.rawValue, question.tier.rawValue,
                    question.state.rawValue, question.holderId, question.leaseExpiresAt?.millisecondsSince1970,
                    question.peerDeadlineAt?.millisecondsSince1970, question.firstResponseAt?.millisecondsSince1970,
                    question.resolvedAt?.millisecondsSince1970, question.resolvedBy, question.createdBy,
                    question.createdAt.millisecondsSince1970, question.updatedAt.millisecondsSince1970,
                    question.priority.rank,
                ]
            )
        } else if change.writesRow {
            let tallies = record.tallies
            try db.run(
                sql: """
                    UPDATE questions SET priority = ?, priority_rank = ?, tier = ?, state = ?, holder_id = ?,
                    lease_expires_at = ?, peer_deadline_at = ?, first_response_at = ?, resolved_at = ?, resolved_by = ?,
                    updated_at = ?, awaiting_reply_since = ?, moved_to_staff_at = ?, claim_expiries = ?,
                    next_response_count = ?, next_response_total_ms = ?, next_response_max_ms = ?,
                    next_response_breaches = ?, staff_replies = ?, volunteer_replies = ?, credited_helper_id = ?,
                    answer_id = ?
                    WHERE id = ?
                    """,
                arguments: [
                    question.priority.rawValue, question.priority.rank, question.tier.rawValue, question.state.rawValue,
                    question.holderId, question.leaseExpiresAt?.millisecondsSince1970,
                    question.peerDeadlineAt?.millisecondsSince1970, question.firstResponseAt?.millisecondsSince1970,
                    question.resolvedAt?.millisecondsSince1970, question.resolvedBy,
                    question.updatedAt.millisecondsSince1970, tallies.awaitingReplySince?.millisecondsSince1970,
                    tallies.movedToStaffAt?.millisecondsSince1970, tallies.claimExpiries, tallies.nextResponseCount,
                    tallies.nextResponseTotalMs, tallies.nextResponseMaxMs, tallies.nextResponseBreaches,
                    tallies.staffReplies, tallies.volunteerReplies, tallies.creditedHelperId, tallies.answerId,
                    question.id,
                ]
            )
        }
        var escalations: [Escalation] = []
        // Read once per change, when its first event goes out.
        var subscribers: [OutboundSubscriber]?
        func outbound() throws -> [OutboundSubscriber] {
            if let subscribers { return subscribers }
            let loaded = try outboundSubscribers(db)
            subscribers = loaded
            return loaded
        }
        for effect in change.effects {
            switch effect {
            case .message(let message):
                try insertMessage(db, message)
            case .startClaim(let id, let helperId, let at, let expiresAt):
                try db.run(
                    sql: "INSERT INTO claims (id, question_id, helper_id, claimed_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                    arguments: [id, question.id, helperId, at.millisecondsSince1970, expiresAt.millisecondsSince1970]
                )
            case .renewClaim(let expiresAt):
                try db.run(
                    sql: "UPDATE claims SET expires_at = ? WHERE question_id = ? AND ended_at IS NULL",
                    arguments: [expiresAt.millisecondsSince1970, question.id]
                )
            case .endClaim(let reason, let at):
                try db.run(
                    sql: "UPDATE claims SET ended_at = ?, end_reason = ? WHERE question_id = ? AND ended_at IS NULL",
                    arguments: [at.millisecondsSince1970, reason.rawValue, question.id]
                )
            case .startTimer(let timer, let onlyIfEnded):
                try startTimer(db, question.id, timer, onlyIfEnded: onlyIfEnded)
            case .endTimers(let targets, let status, let at):
                try endTimers(db, question.id, targets, as: status, at: at)
            case .markTimer(let target, let status, let nextCheckAt):
                try db.run(
                    sql: "UPDATE sla_timers SET status = ?, next_check_at = ? WHERE question_id = ? AND target = ?",
                    arguments: [status.rawValue, nextCheckAt?.millisecondsSince1970, question.id, target.rawValue]
                )
            case .event(let fact):
                try Self.record(db, fact, subscribers: try outbound())
            case .escalation(let draft):
                if let escalation = try raiseEscalation(db, question, draft, subscribers: try outbound()) {
                    escalations.append(escalation)
                }
            case .issueRating(let issue):
                try issueRating(db, question.id, issue)
            case .recordScore(let score, let comment, let solved, let at):
                try db.run(
                    sql: "UPDATE ratings SET score = ?, comment = ?, solved = ?, rated_at = ? WHERE question_id = ?",
                    arguments: [score, comment, solved, at.millisecondsSince1970, question.id]
                )
            case .points(let entry):
                try insertLedgerEntry(db, entry)
            case .setLevel(let helperId, let level):
                try db.run(sql: "UPDATE helpers SET level = ? WHERE id = ?", arguments: [level, helperId])
            case .badge(let helperId, let key, let at):
                try db.run(
                    sql: """
                        INSERT INTO helper_badges (helper_id, badge_key, awarded_at) VALUES (?, ?, ?)
                        ON CONFLICT DO NOTHING
                        """,
                    arguments: [helperId, key, at.millisecondsSince1970]
                )
            case .pauseHelper(let helperId, let at):
                try db.run(
                    sql: "UPDATE helpers SET paused_at = ?, updated_at = ? WHERE id = ? AND paused_at IS NULL",
                    arguments: [at.millisecondsSince1970, at.millisecondsSince1970, helperId]
                )
            case .signature, .keepSignature, .openIncident, .linkIncident, .unlinkIncident:
                try applyIncidentEffect(db, effect, questionId: question.id, at: question.createdAt)
            case .receipt(let origin, let at):
                try storeReceipt(db, origin, questionId: question.id, at: at)
            case .conversation(let origin, let at):
                try startConversation(db, origin, questionId: question.id, at: at)
            case .idempotentWrite(let reservation, let write):
                try markIdempotentWrite(db, reservation, write)
            case .redact(let redaction):
                try applyRedaction(db, question, redaction)
            }
        }
        return AppliedChange(
            question: question, escalations: escalations, messages: change.messages, outcome: change.outcome,
            pausedHelper: change.pausedHelper
        )
    }

    static func insertMessage(_ db: Database, _ message: Message) throws {
        try db.run(
            sql: "INSERT INTO messages (\(Message.columns)) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [
                message.id, message.questionId, message.authorKind.rawValue, message.helperId, message.body,
                message.createdAt.millisecondsSince1970,
            ]
        )
    }

    /// Records a timeline event and publishes it to subscribers; its `outbound` facts go to the outbox only.
    static func record(
        _ db: Database, _ fact: TimelineFact, escalation: Escalation? = nil, subscribers: [OutboundSubscriber]? = nil
    ) throws {
        try db.run(
            sql: "INSERT INTO question_events (question_id, type, actor_id, at, data) VALUES (?, ?, ?, ?, ?)",
            arguments: [
                fact.question.id, fact.type.rawValue, fact.actorId, fact.at.millisecondsSince1970,
                StoredValue.json(fact.data),
            ]
        )
        if let outbound = OutboundEventType(fact.type) {
            try publish(
                db, outbound, questionId: fact.question.id, actor: fact.actorId, at: fact.at,
                details: fact.data.merging(fact.outbound) { _, added in added }, escalation: escalation,
                question: fact.question, subscribers: subscribers
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
    ) throws {
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

    /// Inserts the escalation unless the question has one of its reason and level; when new, records its change-feed
    /// row and timeline event and returns it; when not, throws the draft's `ifExists` or returns nil.
    static func raiseEscalation(
        _ db: Database, _ question: Question, _ draft: EscalationDraft, subscribers: [OutboundSubscriber]
    ) throws -> Escalation? {
        let at = draft.at.millisecondsSince1970
        try db.run(
            sql: """
                INSERT INTO escalations (id, question_id, reason, level, state, note, created_by, created_at, updated_at)
                VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?)
                ON CONFLICT (question_id, reason, level) DO NOTHING
                """,
            arguments: [draft.id, question.id, draft.reason.rawValue, draft.level, draft.note, draft.actorId, at, at]
        )
        guard db.changesCount == 1 else {
            if let error = draft.ifExists { throw error }
            return nil
        }
        try recordChange(db, draft.id, .created, at: draft.at)
        let escalation = draft.escalation(about: question)
        try Self.record(db, draft.event, escalation: escalation, subscribers: subscribers)
        return escalation
    }

    /// Issues the rating link (replacing an unused one from an earlier resolution; a rated question keeps its rating).
    static func issueRating(_ db: Database, _ questionId: String, _ issue: RatingIssue) throws {
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
                questionId, issue.grant.tokenHash, issue.grant.expiresAt.millisecondsSince1970,
                issue.grant.issuedAt.millisecondsSince1970, issue.helperId, issue.helperTier?.rawValue,
            ]
        )
    }
}
