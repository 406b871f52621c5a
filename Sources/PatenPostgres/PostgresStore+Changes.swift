import Foundation
import PatenCore
import PostgresNIO

// Question changes on PostgreSQL: load the snapshot a command needs under the question's row lock, let
// `QuestionCommands` decide, apply the change. Every change locks the question's row first (`FOR NO KEY UPDATE`;
// a claim locks the claiming helper's row before it, so a helper's concurrent claims are counted one at a time),
// so changes to one question from any number of instances apply one at a time and take their locks in the same
// order. Background work takes due rows with `SKIP LOCKED`: two instances never act on the same row, and neither
// waits for the other. No rule lives here: only how a change's parts are written, and the constraints that must
// hold across instances (one live claim per question, one escalation per question, reason and level, one receipt per
// webhook id).

extension QuestionRecord {
    static let pgColumns =
        Question.pgColumns + """
            , awaiting_reply_since, moved_to_staff_at, claim_expiries, next_response_count, next_response_total_ms, \
            next_response_max_ms, next_response_breaches, staff_replies, volunteer_replies, credited_helper_id, \
            answer_id
            """

    init(pg row: PostgresRow) throws {
        let question = try Question(pg: row)
        let row = row.makeRandomAccess()
        self.init(
            question: question,
            tallies: QuestionTallies(
                awaitingReplySince: try row.optionalDate("awaiting_reply_since"),
                movedToStaffAt: try row.optionalDate("moved_to_staff_at"),
                claimExpiries: try row.value("claim_expiries", as: Int.self),
                nextResponseCount: try row.value("next_response_count", as: Int.self),
                nextResponseTotalMs: try row.value("next_response_total_ms", as: Int64.self),
                nextResponseMaxMs: try row.value("next_response_max_ms", as: Int64.self),
                nextResponseBreaches: try row.value("next_response_breaches", as: Int.self),
                staffReplies: try row.value("staff_replies", as: Int.self),
                volunteerReplies: try row.value("volunteer_replies", as: Int.self),
                creditedHelperId: try row.value("credited_helper_id", as: String?.self),
                answerId: try row.value("answer_id", as: String?.self)
            )
        )
    }
}

extension PostgresStore: QuestionChangeStore {
    public func apply(
        questionId: String, needs: SnapshotNeeds, at now: Date,
        _ decide: @escaping @Sendable (QuestionSnapshot) throws -> QuestionChange
    ) async throws -> AppliedChange {
        do {
            return try await transaction { connection in
                let snapshot = try await self.snapshot(connection, questionId, needs: needs, at: now)
                return try await self.apply(connection, try decide(snapshot))
            }
        } catch let error as PSQLError where error.isSecondClaim {
            // The one-holder index caught a claim the rules did not see; the other claim won.
            let holder = try await question(id: questionId)?.holderId
            var handle = "another helper"
            if let holder, let found = try await helper(id: holder)?.handle { handle = found }
            throw PatenError.conflict(
                "already_claimed", "Question \(questionId) is already claimed by \(handle).", details: ["holder": handle]
            )
        }
    }

    public func peek(questionId: String, needs: SnapshotNeeds, at now: Date) async throws -> QuestionSnapshot? {
        try await client.withConnection { connection in
            try await self.snapshot(connection, questionId, needs: needs, at: now, locking: false)
        }
    }

    public func apply(
        ratingTokenHash: String, needs: SnapshotNeeds, at now: Date,
        _ decide: @escaping @Sendable (StoredRating, QuestionSnapshot) throws -> QuestionChange
    ) async throws -> AppliedChange {
        let logger = logger
        return try await transaction { connection in
            guard
                let questionId = try await connection.query(
                    "SELECT question_id FROM ratings WHERE token_hash = \(ratingTokenHash)", logger: logger
                ).first({ try $0.decode(String.self) })
            else { throw Self.unknownRating }
            // The question's row first, as every change; then the rating's, re-read under the lock: of two submissions
            // of one link, one is recorded, the other is told so.
            var snapshot = try await self.snapshot(connection, questionId, needs: SnapshotNeeds(), at: now)
            guard
                let (expires, helperId, helperTier, score) = try await connection.query(
                    """
                    SELECT token_expires_at, helper_id, helper_tier, score FROM ratings
                    WHERE token_hash = \(ratingTokenHash) FOR UPDATE
                    """,
                    logger: logger
                ).first({ try $0.decode((Int64, String?, String?, Int?).self) })
            else { throw Self.unknownRating }
            let stored = StoredRating(
                questionId: questionId, expiresAt: Date(millisecondsSince1970: expires), helperId: helperId,
                helperTier: helperTier.flatMap(Tier.init(rawValue:)), score: score
            )
            // The credited helper's standing after the question's and the rating's rows, as every change takes them.
            if let standingNeeds = needs.standing, let helperId {
                snapshot.standing = try await self.standing(
                    connection, helperId: helperId, questionId: questionId, needs: standingNeeds, at: now, locking: true
                )
            }
            return try await self.apply(connection, try decide(stored, snapshot))
        }
    }

    public func applyDueClocks(
        at now: Date, limit: Int, _ decide: @escaping @Sendable (DueClock, QuestionSnapshot) -> QuestionChange
    ) async throws -> SweepOutcome {
        var outcome = SweepOutcome()
        let logger = logger
        // Most passes find nothing: one statement outside any transaction says so.
        let anyDue =
            try await client.query(
                """
                SELECT EXISTS (SELECT 1 FROM sla_timers
                WHERE next_check_at IS NOT NULL AND next_check_at <= \(now.millisecondsSince1970))
                """,
                logger: logger
            ).first { try $0.decode(Bool.self) } ?? false
        guard anyDue else { return outcome }
        // A batch per transaction: the due clocks and their questions are locked, so a clock another instance acted
        // on since this statement's snapshot is re-checked against its new values, and a question being changed
        // elsewhere is left for the next pass.
        while outcome.examined < limit {
            let batch = min(Self.backgroundBatch, limit - outcome.examined)
            let step = try await transaction { connection -> SweepOutcome in
                let rows = try await connection.query(
                    """
                    SELECT t.target, t.status, t.due_at, \(unescaped: Self.qualified(QuestionRecord.pgColumns))
                    FROM sla_timers t JOIN questions q ON q.id = t.question_id
                    WHERE t.next_check_at IS NOT NULL AND t.next_check_at <= \(now.millisecondsSince1970)
                    ORDER BY t.next_check_at LIMIT \(batch) FOR NO KEY UPDATE OF q, t SKIP LOCKED
                    """,
                    logger: logger
                ).all { row -> (DueClock, QuestionRecord) in
                    let record = try QuestionRecord(pg: row)
                    let random = row.makeRandomAccess()
                    let clock = DueClock(
                        questionId: record.question.id, target: try random.decoded("target", as: SLATarget.self),
                        status: try random.decoded("status", as: SLAStatus.self), dueAt: try random.date("due_at")
                    )
                    return (clock, record)
                }
                var step = SweepOutcome()
                var changes: [QuestionChange] = []
                var inBatch: Set<String> = []
                var feed: [(id: String, at: Int64)] = []
                // A question with two due clocks: apply what came before it first (one change per question and
                // batch), and decide from the row as the first change left it.
                var latest: [String: QuestionRecord] = [:]
                for (clock, loaded) in rows {
                    if inBatch.contains(clock.questionId) {
                        step.add(try await self.applyBatch(connection, changes, feed: &feed))
                        changes = []
                        inBatch = []
                    }
                    let change = decide(clock, QuestionSnapshot(record: latest[clock.questionId] ?? loaded))
                    latest[clock.questionId] = change.record
                    changes.append(change)
                    inBatch.insert(clock.questionId)
                }
                step.add(try await self.applyBatch(connection, changes, feed: &feed))
                try await self.appendCreated(connection, feed)
                return step
            }
            outcome.add(step)
            if step.examined < batch { break }
        }
        return outcome
    }

    public func applyExpiredLeases(
        at now: Date, limit: Int, _ decide: @escaping @Sendable (QuestionSnapshot) -> QuestionChange
    ) async throws -> Int {
        var expired = 0
        let logger = logger
        // A batch per transaction; leases another instance is expiring (or a helper is changing) are skipped, not
        // waited for.
        while expired < limit {
            let batch = min(Self.backgroundBatch, limit - expired)
            let ended = try await transaction { connection -> Int in
                let records = try await connection.query(
                    """
                    SELECT \(unescaped: QuestionRecord.pgColumns) FROM questions
                    WHERE state = 'claimed' AND lease_expires_at <= \(now.millisecondsSince1970)
                    ORDER BY lease_expires_at LIMIT \(batch) FOR NO KEY UPDATE SKIP LOCKED
                    """,
                    logger: logger
                ).all(QuestionRecord.init(pg:))
                let ids = records.map(\.question.id)
                // Whose holder replied during the claim that ran out: those expiries do not count towards
                // claim_expired.
                let replied = Set(
                    try await connection.query(
                        """
                        SELECT DISTINCT c.question_id FROM claims c JOIN messages m ON m.question_id = c.question_id
                        WHERE c.question_id = ANY(\(ids)) AND c.ended_at IS NULL AND m.helper_id = c.helper_id
                        AND m.created_at >= c.claimed_at
                        """,
                        logger: logger
                    ).all { try $0.decode(String.self) }
                )
                let changes = records.map { record in
                    decide(QuestionSnapshot(record: record, expiredHolderReplied: replied.contains(record.question.id)))
                }
                var feed: [(id: String, at: Int64)] = []
                _ = try await self.applyBatch(connection, changes, feed: &feed)
                try await self.appendCreated(connection, feed)
                return records.count
            }
            expired += ended
            if ended < batch { break }
        }
        return expired
    }
}

// Loading and applying. Each runs inside the caller's transaction.
extension PostgresStore {
    /// Most due clocks or leases one background transaction takes.
    static let backgroundBatch = 500

    static let unknownRating = PatenError(.notFound, code: "rating_not_found", message: "This rating link is not valid.")

    /// The columns with the `q.` prefix.
    static func qualified(_ columns: String) -> String {
        columns.split(separator: ",").map { "q." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .joined(separator: ", ")
    }

    /// The question's row, locked until the transaction ends, and the facts `needs` names.
    func snapshot(
        _ connection: PostgresConnection, _ id: String, needs: SnapshotNeeds, at now: Date, locking: Bool = true
    ) async throws -> QuestionSnapshot {
        let ms = now.millisecondsSince1970
        if locking, let helperId = needs.claimsOf {
            // The helper's row first, then the question's: see the top of this file.
            try await connection.query("SELECT id FROM helpers WHERE id = \(helperId) FOR NO KEY UPDATE", logger: logger)
        }
        guard
            let record = try await connection.query(
                "SELECT \(unescaped: QuestionRecord.pgColumns) FROM questions WHERE id = \(id) \(unescaped: locking ? "FOR NO KEY UPDATE" : "")",
                logger: logger
            ).first(QuestionRecord.init(pg:))
        else { throw PatenError.notFound("question", id: id) }
        var snapshot = QuestionSnapshot(record: record)
        let question = record.question
        if question.state == .claimed, let expiry = question.leaseExpiresAt, expiry <= now {
            snapshot.expiredHolderReplied =
                try await connection.query(
                    """
                    SELECT EXISTS (SELECT 1 FROM messages m JOIN claims c ON c.question_id = m.question_id
                    WHERE c.question_id = \(id) AND c.ended_at IS NULL AND m.helper_id = c.helper_id
                    AND m.created_at >= c.claimed_at)
                    """,
                    logger: logger
                ).first { try $0.decode(Bool.self) } ?? false
        }
        if let helperId = needs.claimsOf {
            snapshot.activeClaims =
                try await connection.query(
                    "SELECT COUNT(*) FROM claims WHERE helper_id = \(helperId) AND ended_at IS NULL AND expires_at > \(ms)",
                    logger: logger
                ).first { try $0.decode(Int.self) } ?? 0
        }
        if needs.holderHandle, let holder = question.holderId {
            snapshot.holderHandle = try await handles(connection, [holder])[holder]
        }
        if needs.recentFollowUps {
            snapshot.recentFollowUps = try await connection.query(
                """
                SELECT created_at FROM messages WHERE question_id = \(id) AND author_kind = 'customer'
                AND created_at > \(now.addingTimeInterval(-60).millisecondsSince1970)
                ORDER BY created_at DESC LIMIT \(QuestionRules.followUpsPerMinute)
                """,
                logger: logger
            ).all { Date(millisecondsSince1970: try $0.decode(Int64.self)) }
        }
        if needs.resolution {
            if let (helperId, role, messageId) = try await connection.query(
                """
                SELECT m.helper_id, h.role, m.id FROM messages m JOIN helpers h ON h.id = m.helper_id
                WHERE m.question_id = \(id) AND m.author_kind = 'helper' ORDER BY m.created_at DESC, m.seq DESC LIMIT 1
                """,
                logger: logger
            ).first({ try $0.decode((String, String, String).self) }), let role = Role(rawValue: role) {
                snapshot.lastReplier = Replier(id: helperId, role: role, messageId: messageId)
            }
            snapshot.rated =
                try await connection.query(
                    "SELECT score IS NOT NULL FROM ratings WHERE question_id = \(id)", logger: logger
                ).first { try $0.decode(Bool.self) } ?? false
        }
        if let answerId = needs.answerId,
            let (helperId, role) = try await connection.query(
                """
                SELECT m.helper_id, h.role FROM messages m JOIN helpers h ON h.id = m.helper_id
                WHERE m.id = \(answerId) AND m.question_id = \(id) AND m.author_kind = 'helper'
                """,
                logger: logger
            ).first({ try $0.decode((String, String).self) }), let role = Role(rawValue: role)
        {
            snapshot.answer = Replier(id: helperId, role: role, messageId: answerId)
        }
        if let standingNeeds = needs.standing,
            let whom = standingNeeds.helperId(in: snapshot, answerNamed: needs.answerId != nil, rated: nil),
            !standingNeeds.onlyIfClaimable || ProgrammeRules.mayClaim(question, by: whom, at: now)
        {
            // A claim locked the helper's row already (before the question's); anything else that books points
            // locks it after the question's. The rare deadlock of the two orders is retried (see `transaction`).
            snapshot.standing = try await standing(
                connection, helperId: whom, questionId: id, needs: standingNeeds, at: now,
                locking: locking && needs.claimsOf != whom
            )
        }
        if needs.texts {
            snapshot.texts = try await redactableTexts(connection, id)
        }
        return snapshot
    }

    /// Writes the change: the question's row (inserted, or updated when it changed), then each effect in order.
    func apply(_ connection: PostgresConnection, _ change: QuestionChange) async throws -> AppliedChange {
        let question = change.record.question
        let tallies = change.record.tallies
        if change.before == nil {
            try await connection.query(
                """
                INSERT INTO questions (\(unescaped: Question.pgColumns), priority_rank)
                VALUES (\(question.id), \(question.subject), \(question.customer.id), \(question.customer.name),
                \(question.channel), \(question.topic), \(question.language), \(question.priority.rawValue),
                \(question.tier.rawValue), \(question.state.rawValue), \(question.holderId),
                \(question.leaseExpiresAt?.millisecondsSince1970), \(question.peerDeadlineAt?.millisecondsSince1970),
                \(question.firstResponseAt?.millisecondsSince1970), \(question.resolvedAt?.millisecondsSince1970),
                \(question.resolvedBy), \(question.createdBy), \(question.createdAt.millisecondsSince1970),
                \(question.updatedAt.millisecondsSince1970), \(question.priority.rank))
                """,
                logger: logger
            )
        } else if change.writesRow {
            try await connection.query(
                """
                UPDATE questions SET priority = \(question.priority.rawValue), priority_rank = \(question.priority.rank),
                tier = \(question.tier.rawValue), state = \(question.state.rawValue), holder_id = \(question.holderId),
                lease_expires_at = \(question.leaseExpiresAt?.millisecondsSince1970),
                peer_deadline_at = \(question.peerDeadlineAt?.millisecondsSince1970),
                first_response_at = \(question.firstResponseAt?.millisecondsSince1970),
                resolved_at = \(question.resolvedAt?.millisecondsSince1970), resolved_by = \(question.resolvedBy),
                updated_at = \(question.updatedAt.millisecondsSince1970),
                awaiting_reply_since = \(tallies.awaitingReplySince?.millisecondsSince1970),
                moved_to_staff_at = \(tallies.movedToStaffAt?.millisecondsSince1970),
                claim_expiries = \(tallies.claimExpiries), next_response_count = \(tallies.nextResponseCount),
                next_response_total_ms = \(tallies.nextResponseTotalMs),
                next_response_max_ms = \(tallies.nextResponseMaxMs),
                next_response_breaches = \(tallies.nextResponseBreaches), staff_replies = \(tallies.staffReplies),
                volunteer_replies = \(tallies.volunteerReplies), credited_helper_id = \(tallies.creditedHelperId),
                answer_id = \(tallies.answerId)
                WHERE id = \(question.id)
                """,
                logger: logger
            )
        }
        var escalations: [Escalation] = []
        // Read once per change, when its first event goes out.
        var subscribers: [OutboundSubscriber]?
        var feed: [(id: String, at: Int64)] = []
        for effect in change.effects {
            switch effect {
            case .message(let message):
                try await insertMessage(connection, message)
            case .startClaim(let id, let helperId, let at, let expiresAt):
                try await connection.query(
                    """
                    INSERT INTO claims (id, question_id, helper_id, claimed_at, expires_at)
                    VALUES (\(id), \(question.id), \(helperId), \(at.millisecondsSince1970), \(expiresAt.millisecondsSince1970))
                    """,
                    logger: logger
                )
            case .renewClaim(let expiresAt):
                try await connection.query(
                    """
                    UPDATE claims SET expires_at = \(expiresAt.millisecondsSince1970)
                    WHERE question_id = \(question.id) AND ended_at IS NULL
                    """,
                    logger: logger
                )
            case .endClaim(let reason, let at):
                try await connection.query(
                    """
                    UPDATE claims SET ended_at = \(at.millisecondsSince1970), end_reason = \(reason.rawValue)
                    WHERE question_id = \(question.id) AND ended_at IS NULL
                    """,
                    logger: logger
                )
            case .startTimer(let timer, let onlyIfEnded):
                try await startTimer(connection, question.id, timer, onlyIfEnded: onlyIfEnded)
            case .endTimers(let targets, let status, let at):
                try await endTimers(connection, question.id, targets, as: status, at: at.millisecondsSince1970)
            case .markTimer(let target, let status, let nextCheckAt):
                try await connection.query(
                    """
                    UPDATE sla_timers SET status = \(status.rawValue), next_check_at = \(nextCheckAt?.millisecondsSince1970)
                    WHERE question_id = \(question.id) AND target = \(target.rawValue)
                    """,
                    logger: logger
                )
            case .event(let fact):
                try await record(connection, fact, subscribers: &subscribers)
            case .escalation(let draft):
                if let escalation = try await raiseEscalation(connection, question, draft, subscribers: &subscribers) {
                    escalations.append(escalation)
                    feed.append((escalation.id, draft.at.millisecondsSince1970))
                }
            case .issueRating(let issue):
                try await issueRating(connection, question.id, issue)
            case .recordScore(let score, let comment, let solved, let at):
                try await connection.query(
                    """
                    UPDATE ratings SET score = \(score), comment = \(comment), solved = \(solved),
                    rated_at = \(at.millisecondsSince1970) WHERE question_id = \(question.id)
                    """,
                    logger: logger
                )
            case .points(let entry):
                try await insertLedgerEntry(connection, entry)
            case .setLevel(let helperId, let level):
                try await connection.query(
                    "UPDATE helpers SET level = \(level) WHERE id = \(helperId)", logger: logger
                )
            case .badge(let helperId, let key, let at):
                try await connection.query(
                    """
                    INSERT INTO helper_badges (helper_id, badge_key, awarded_at)
                    VALUES (\(helperId), \(key), \(at.millisecondsSince1970)) ON CONFLICT DO NOTHING
                    """,
                    logger: logger
                )
            case .pauseHelper(let helperId, let at):
                let ms = at.millisecondsSince1970
                try await connection.query(
                    """
                    UPDATE helpers SET paused_at = \(ms), updated_at = \(ms) WHERE id = \(helperId) AND paused_at IS NULL
                    """,
                    logger: logger
                )
            case .signature, .keepSignature, .openIncident, .linkIncident, .unlinkIncident:
                try await applyIncidentEffect(connection, effect, questionId: question.id, at: question.createdAt)
            case .receipt(let origin, let at):
                try await storeReceipt(connection, origin, questionId: question.id, at: at)
            case .conversation(let origin, let at):
                try await startConversation(connection, origin, questionId: question.id, at: at)
            case .idempotentWrite(let reservation, let write):
                try await markIdempotentWrite(connection, reservation, write)
            case .redact(let redaction):
                try await applyRedaction(connection, question, redaction)
            }
        }
        try await appendCreated(connection, feed)
        return AppliedChange(
            question: question, escalations: escalations, messages: change.messages, outcome: change.outcome,
            pausedHelper: change.pausedHelper
        )
    }

    /// Appends a timeline event and writes its outbox messages; its `outbound` facts go to the outbox only.
    func record(
        _ connection: PostgresConnection, _ fact: TimelineFact, escalation: Escalation? = nil,
        subscribers: inout [OutboundSubscriber]?
    ) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(fact.data), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO question_events (question_id, type, actor_id, at, data)
            VALUES (\(fact.question.id), \(fact.type.rawValue), \(fact.actorId), \(fact.at.millisecondsSince1970), \(json))
            """,
            logger: logger
        )
        if let outbound = OutboundEventType(fact.type) {
            if subscribers == nil { subscribers = try await outboundSubscribers(connection) }
            try await publish(
                connection, outbound, questionId: fact.question.id, actor: fact.actorId, at: fact.at,
                details: fact.data.merging(fact.outbound) { _, added in added }, escalation: escalation,
                question: fact.question, subscribers: subscribers
            )
        }
    }

    /// Inserts the escalation unless the question has one of its reason and level (the unique index decides between
    /// racing instances); when new, appends its change-feed row and timeline event and returns it; when not, throws
    /// the draft's `ifExists` or returns nil.
    func raiseEscalation(
        _ connection: PostgresConnection, _ question: Question, _ draft: EscalationDraft,
        subscribers: inout [OutboundSubscriber]?
    ) async throws -> Escalation? {
        let questionId = question.id
        let at = draft.at.millisecondsSince1970
        let inserted = try await connection.query(
            """
            INSERT INTO escalations (id, question_id, reason, level, state, note, created_by, created_at, updated_at)
            VALUES (\(draft.id), \(questionId), \(draft.reason.rawValue), \(draft.level), 'open', \(draft.note),
            \(draft.actorId), \(at), \(at))
            ON CONFLICT (question_id, reason, level) DO NOTHING RETURNING id
            """,
            logger: logger
        ).first { try $0.decode(String.self) }
        guard inserted != nil else {
            if let error = draft.ifExists { throw error }
            return nil
        }
        let escalation = draft.escalation(about: question)
        try await record(connection, draft.event, escalation: escalation, subscribers: &subscribers)
        return escalation
    }

    /// Issues the rating link (replacing an unused one from an earlier resolution; a rated question keeps its rating).
    func issueRating(_ connection: PostgresConnection, _ questionId: String, _ issue: RatingIssue) async throws {
        try await connection.query(
            """
            INSERT INTO ratings (question_id, token_hash, token_expires_at, issued_at, helper_id, helper_tier)
            VALUES (\(questionId), \(issue.grant.tokenHash), \(issue.grant.expiresAt.millisecondsSince1970),
            \(issue.grant.issuedAt.millisecondsSince1970), \(issue.helperId), \(issue.helperTier?.rawValue))
            ON CONFLICT (question_id) DO UPDATE SET
            token_hash = EXCLUDED.token_hash, token_expires_at = EXCLUDED.token_expires_at,
            issued_at = EXCLUDED.issued_at, helper_id = EXCLUDED.helper_id, helper_tier = EXCLUDED.helper_tier
            WHERE ratings.score IS NULL
            """,
            logger: logger
        )
    }

    /// Appends to the escalation change feed. Readers resume after the last sequence number they saw, so numbers
    /// must become visible in order: a transaction takes the feed's lock (held until it ends) before taking its
    /// number, so no change can commit behind a later one. The lock is the last one a change takes, and the
    /// transactions holding it are short.
    ///
    /// New escalations' rows are written by `appendCreated` as the last statement of their change (or of a background
    /// batch's transaction), so the lock is held only from there to the commit.
    func appendCreated(_ connection: PostgresConnection, _ rows: [(id: String, at: Int64)]) async throws {
        guard !rows.isEmpty else { return }
        try await connection.query("SELECT pg_advisory_xact_lock(\(Self.changeFeedLock))", logger: logger)
        try await connection.query(
            """
            INSERT INTO escalation_changes (escalation_id, kind, at)
            SELECT v.id, \(EscalationChange.Kind.created.rawValue), v.at
            FROM UNNEST(\(rows.map(\.id))::text[], \(rows.map(\.at))::int8[]) WITH ORDINALITY AS v(id, at, n)
            ORDER BY v.n
            """,
            logger: logger
        )
    }

    func appendChange(
        _ connection: PostgresConnection, _ id: String, _ kind: EscalationChange.Kind, at ms: Int64
    ) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(\(Self.changeFeedLock))", logger: logger)
        try await connection.query(
            "INSERT INTO escalation_changes (escalation_id, kind, at) VALUES (\(id), \(kind.rawValue), \(ms))",
            logger: logger
        )
    }
}
