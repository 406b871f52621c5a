import Foundation
import PatenCore
import PostgresNIO

// Questions on PostgreSQL. Every change locks the question's row first (`FOR NO KEY UPDATE`) and only then touches
// its claims, clocks, messages and events, so changes to one question from any number of instances apply one at a
// time and always take their locks in the same order. (`NO KEY` lets other transactions keep inserting rows that
// merely reference the question, such as a rating's events, without waiting.) Background work (lease expiry, the sweep) takes due rows with
// `SKIP LOCKED`: two instances never act on the same row, and neither waits for the other.

extension QuestionEvent {
    static let pgColumns = "seq, question_id, type, actor_id, at, data"

    init(pg row: PostgresRow) throws {
        let row = row.makeRandomAccess()
        self.init(
            sequence: try row.value("seq"), questionId: try row.value("question_id"),
            type: try row.decoded("type", as: QuestionEventType.self), actorId: try row.value("actor_id", as: String?.self),
            at: try row.date("at"),
            data: try JSONDecoder().decode([String: String].self, from: Data(try row.value("data", as: String.self).utf8))
        )
    }
}

extension PostgresStore: QuestionRepository {
    public func insertQuestion(
        _ draft: QuestionDraft, messageId: String, idempotency: IdempotencyReservation?, context: ChangeContext
    ) async throws -> Question {
        let question = draft.question
        try await transaction { connection in
            try await connection.query(
                """
                INSERT INTO questions (\(unescaped: Question.pgColumns), priority_rank)
                VALUES (\(question.id), \(question.subject), \(question.customer.id), \(question.customer.name),
                \(question.channel), \(question.topic), \(question.language), \(question.priority.rawValue),
                \(question.tier.rawValue), \(question.state.rawValue), NULL, NULL,
                \(question.peerDeadlineAt?.millisecondsSince1970), NULL, NULL, NULL, \(question.createdBy),
                \(question.createdAt.millisecondsSince1970), \(question.updatedAt.millisecondsSince1970),
                \(question.priority.rank))
                """,
                logger: logger
            )
            try await markIdempotentWrite(connection, idempotency, IdempotentWrite(questionId: question.id))
            try await insertMessage(
                connection,
                Message(
                    id: messageId, questionId: question.id, authorKind: .customer, helperId: nil, body: draft.body,
                    createdAt: question.createdAt
                )
            )
            var created = ["channel": question.channel, "message_id": messageId]
            if let origin = draft.origin {
                try await storeReceipt(connection, origin, questionId: question.id, at: question.createdAt)
                try await startConversation(connection, origin, questionId: question.id, at: question.createdAt)
                created.merge(origin.eventData) { current, _ in current }
            }
            try await record(connection, .created, question.id, actor: question.createdBy, at: question.createdAt, created)
            var routed = [
                "tier": question.tier.rawValue, "reason": draft.routingReason, "topic": question.topic,
                "priority": question.priority.rawValue, "language": question.language,
            ]
            routed["peer_deadline_at"] = question.peerDeadlineAt.map { String($0.millisecondsSince1970) }
            try await record(connection, .routed, question.id, actor: nil, at: question.createdAt, routed)
            switch question.tier {
            case .volunteer:
                try await startTimer(
                    connection, question.id, context.planner.peerWindow(priority: question.priority, from: question.createdAt)
                )
            case .staff:
                let timers = context.planner.staffArrival(
                    priority: question.priority, at: question.createdAt, alreadyAnswered: false
                )
                for timer in timers { try await startTimer(connection, question.id, timer) }
            }
            if question.priority == .critical {
                try await raiseEscalation(
                    connection, question.id, .criticalIntake, note: "Critical priority at intake.", actor: nil,
                    context: context
                )
            }
        }
        return question
    }

    public func question(id: String) async throws -> Question? {
        try await client.query(
            "SELECT \(unescaped: Question.pgColumns) FROM questions WHERE id = \(id)", logger: logger
        ).first(Question.init(pg:))
    }

    public func questionDetail(id: String, page: DetailPage) async throws -> QuestionDetail? {
        // One snapshot for the question, a page of its messages and of its events, and its rating link.
        try await transaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            guard
                let question = try await connection.query(
                    "SELECT \(unescaped: Question.pgColumns) FROM questions WHERE id = \(id)", logger: logger
                ).first(Question.init(pg:))
            else { return nil }
            // Each page reads one row past its limit to know whether more follow. A message cursor names the last
            // message read; one that is not this question's matches nothing (an empty page), not the start.
            let messages: [Message]
            if let after = page.messagesAfter {
                messages = try await connection.query(
                    """
                    SELECT \(unescaped: Message.pgColumns) FROM messages WHERE question_id = \(id)
                    AND (created_at, seq) > (SELECT created_at, seq FROM messages WHERE id = \(after) AND question_id = \(id))
                    ORDER BY created_at, seq LIMIT \(page.messageLimit + 1)
                    """,
                    logger: logger
                ).all(Message.init(pg:))
            } else {
                messages = try await connection.query(
                    """
                    SELECT \(unescaped: Message.pgColumns) FROM messages WHERE question_id = \(id)
                    ORDER BY created_at, seq LIMIT \(page.messageLimit + 1)
                    """,
                    logger: logger
                ).all(Message.init(pg:))
            }
            let events = try await connection.query(
                """
                SELECT \(unescaped: QuestionEvent.pgColumns) FROM question_events
                WHERE question_id = \(id) AND seq > \(page.eventsAfter ?? 0) ORDER BY seq LIMIT \(page.eventLimit + 1)
                """,
                logger: logger
            ).all(QuestionEvent.init(pg:))
            let shownMessages = Array(messages.prefix(page.messageLimit))
            let shownEvents = Array(events.prefix(page.eventLimit))
            var named = Set(shownMessages.compactMap(\.helperId) + shownEvents.compactMap(\.actorId))
            if let holder = question.holderId { named.insert(holder) }
            if let resolver = question.resolvedBy { named.insert(resolver) }
            let link = try await connection.query(
                "SELECT token_hash, issued_at, token_expires_at, score FROM ratings WHERE question_id = \(id)",
                logger: logger
            ).first { row in
                let (hash, issued, expires, score) = try row.decode((String, Int64, Int64, Int?).self)
                return IssuedRatingLink(
                    tokenHash: hash, issuedAt: Date(millisecondsSince1970: issued),
                    expiresAt: Date(millisecondsSince1970: expires), used: score != nil
                )
            }
            return QuestionDetail(
                question: question, messages: shownMessages, events: shownEvents,
                handles: try await handles(connection, Array(named)),
                messagesNext: messages.count > page.messageLimit ? shownMessages.last?.id : nil,
                eventsNext: events.count > page.eventLimit ? shownEvents.last?.sequence : nil, ratingLink: link
            )
        }
    }

    public func questions(matching filter: QuestionFilter) async throws -> QuestionPage {
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT \(Question.pgColumns) FROM questions
                    WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR tier = $2)
                    AND ($3::text IS NULL OR topic = $3) AND ($4::text IS NULL OR holder_id = $4)
                    AND ($5::text IS NULL OR channel = $5)
                    AND ($6::bigint IS NULL OR (created_at, id) < ($6, $7::text))
                    ORDER BY created_at DESC, id DESC LIMIT $8
                    """,
                binds: binds(
                    filter.state?.rawValue, filter.tier?.rawValue, filter.topic, filter.holderId, filter.channel,
                    filter.after?.createdAt.millisecondsSince1970, filter.after?.id, filter.limit + 1
                )
            ),
            logger: logger
        ).all(Question.init(pg:))
        let page = Array(rows.prefix(filter.limit))
        let next = rows.count > filter.limit ? page.last.map { QuestionCursor(createdAt: $0.createdAt, id: $0.id) } : nil
        return QuestionPage(questions: page, next: next)
    }

    public func queue(for helper: Helper, tiers: [Tier], at now: Date, limit: Int) async throws -> [Question] {
        guard !tiers.isEmpty else { return [] }
        // Best first: one point each for a topic in the helper's skills and a language they speak, then higher
        // priority, then longest waiting. Each score is its own walk along the index of open questions by rank
        // (`questions_open_by_rank`), stopping after a page, so no request sorts every open question; questions
        // whose claim ran out (few) come from the lease index. The pieces are merged and cut to a page.
        func open(_ score: Int) -> String {
            "SELECT \(Question.pgColumns), priority_rank AS rank_, \(score) AS score_ FROM questions "
                + "WHERE state = 'open' AND tier = ANY($1)"
        }
        let page = "ORDER BY priority_rank DESC, created_at, id LIMIT $5"
        return try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT * FROM (
                        (SELECT \(Question.pgColumns), priority_rank AS rank_,
                        (CASE WHEN topic = ANY($3) THEN 1 ELSE 0 END) + (CASE WHEN language = ANY($4) THEN 1 ELSE 0 END)
                        AS score_ FROM questions
                        WHERE state = 'claimed' AND lease_expires_at <= $2 AND tier = ANY($1))
                        UNION ALL (\(open(2)) AND topic = ANY($3) AND language = ANY($4) \(page))
                        UNION ALL (\(open(1)) AND (topic = ANY($3)) <> (language = ANY($4)) \(page))
                        UNION ALL (\(open(0)) AND NOT topic = ANY($3) AND NOT language = ANY($4) \(page))
                    ) AS ranked
                    ORDER BY score_ DESC, rank_ DESC, created_at, id
                    LIMIT $5
                    """,
                binds: binds(
                    tiers.map(\.rawValue), now.millisecondsSince1970, helper.skills, helper.languages, limit
                )
            ),
            logger: logger
        ).all(Question.init(pg:))
    }

    public func claim(
        questionId: String, by helper: Helper, claimId: String, lease: TimeInterval, context: ChangeContext
    ) async throws -> Question {
        let now = context.now
        let ms = now.millisecondsSince1970
        return try await transaction { connection in
            // The helper's row first, then the question's: a helper's concurrent claims are counted one at a
            // time (capacity holds), and claims of one question apply one at a time (one holder).
            try await connection.query("SELECT id FROM helpers WHERE id = \(helper.id) FOR NO KEY UPDATE", logger: logger)
            var question = try await lockQuestion(connection, questionId)
            try await endExpiredClaim(connection, &question, context: context)
            let live =
                try await connection.query(
                    "SELECT COUNT(*) FROM claims WHERE helper_id = \(helper.id) AND ended_at IS NULL AND expires_at > \(ms)",
                    logger: logger
                ).first { try $0.decode(Int.self) } ?? 0
            var holderHandle: String?
            if let holder = question.holderId { holderHandle = try await handles(connection, [holder])[holder] }
            try QuestionRules.checkClaim(question, by: helper, activeClaims: live, holderHandle: holderHandle, at: now)
            let expires = now.addingTimeInterval(lease).millisecondsSince1970
            if question.state == .claimed {
                // The holder claiming again renews the lease; no new claim, no new event.
                try await renewLease(connection, questionId, until: expires, at: ms)
            } else {
                try await connection.query(
                    """
                    INSERT INTO claims (id, question_id, helper_id, claimed_at, expires_at)
                    VALUES (\(claimId), \(questionId), \(helper.id), \(ms), \(expires))
                    """,
                    logger: logger
                )
                try await connection.query(
                    """
                    UPDATE questions SET state = 'claimed', holder_id = \(helper.id), lease_expires_at = \(expires),
                    updated_at = \(ms) WHERE id = \(questionId) AND state = 'open'
                    """,
                    logger: logger
                )
                try await record(
                    connection, .claimed, questionId, actor: helper.id, at: now,
                    ["claim_id": claimId, "lease_expires_at": String(expires)]
                )
            }
            return try await lockQuestion(connection, questionId)
        }
    }

    public func release(questionId: String, by actor: Helper, context: ChangeContext) async throws -> Question {
        let now = context.now
        let ms = now.millisecondsSince1970
        return try await transaction { connection in
            var question = try await lockQuestion(connection, questionId)
            try await endExpiredClaim(connection, &question, context: context)
            try QuestionRules.checkRelease(question, by: actor, at: now)
            try await endClaim(connection, questionId, reason: .released, at: ms)
            try await connection.query(
                """
                UPDATE questions SET state = 'open', holder_id = NULL, lease_expires_at = NULL, updated_at = \(ms)
                WHERE id = \(questionId)
                """,
                logger: logger
            )
            try await record(
                connection, .released, questionId, actor: actor.id, at: now, ["holder_id": question.holderId ?? ""]
            )
            return try await lockQuestion(connection, questionId)
        }
    }

    public func reply(
        questionId: String, by helper: Helper, messageId: String, body: String, lease: TimeInterval,
        context: ChangeContext
    ) async throws -> (question: Question, message: Message) {
        let now = context.now
        let ms = now.millisecondsSince1970
        return try await transaction { connection in
            var question = try await lockQuestion(connection, questionId)
            try await endExpiredClaim(connection, &question, context: context)
            try QuestionRules.checkReply(question, by: helper, at: now)
            let message = Message(
                id: messageId, questionId: questionId, authorKind: .helper, helperId: helper.id, body: body,
                createdAt: now
            )
            try await insertMessage(connection, message)
            let isFirst = question.firstResponseAt == nil
            let waiting =
                try await connection.query(
                    "SELECT awaiting_reply_since FROM questions WHERE id = \(questionId)", logger: logger
                ).first { try $0.decode(Int64?.self) } ?? nil
            // The first reply answers the question; a later one answers the customer's latest follow-up, if any.
            let responseMs: Int64? = isFirst ? ms - question.createdAt.millisecondsSince1970 : waiting.map { ms - $0 }
            let nextMs: Int64 = isFirst ? 0 : responseMs ?? 0
            let countsAsNext = !isFirst && waiting != nil
            let staffReply = helper.role == .volunteer ? 0 : 1
            try await connection.query(
                """
                UPDATE questions SET first_response_at = COALESCE(first_response_at, \(ms)), updated_at = \(ms),
                awaiting_reply_since = NULL,
                next_response_count = next_response_count + \(countsAsNext ? 1 : 0),
                next_response_total_ms = next_response_total_ms + \(nextMs),
                next_response_max_ms = GREATEST(next_response_max_ms, \(nextMs)),
                staff_replies = staff_replies + \(staffReply), volunteer_replies = volunteer_replies + \(1 - staffReply)
                WHERE id = \(questionId)
                """,
                logger: logger
            )
            try await endTimers(connection, questionId, [.peerWindow, .firstResponse, .nextResponse], as: .met, at: ms)
            if question.state == .claimed && question.holderId == helper.id {
                try await renewLease(connection, questionId, until: now.addingTimeInterval(lease).millisecondsSince1970, at: ms)
            }
            var data = [
                "message_id": messageId, "first_response": isFirst ? "true" : "false", "tier": question.tier.rawValue,
                "helper_role": helper.role.rawValue,
            ]
            if isFirst || countsAsNext {
                data["response_ms"] = responseMs.map { String($0) }
                data["response_kind"] = isFirst ? "first" : "next"
            }
            try await record(connection, .replied, questionId, actor: helper.id, at: now, data)
            return (try await lockQuestion(connection, questionId), message)
        }
    }

    public func addCustomerMessage(
        questionId: String, by actor: Helper, messageId: String, body: String, origin: InboundOrigin?,
        routing: FollowUpRouting, idempotency: IdempotencyReservation?, context: ChangeContext
    ) async throws -> (question: Question, message: Message) {
        let now = context.now
        let ms = now.millisecondsSince1970
        return try await transaction { connection in
            var question = try await lockQuestion(connection, questionId)
            try QuestionRules.checkCustomerMessage(question, by: actor)
            let recent = try await connection.query(
                """
                SELECT created_at FROM messages WHERE question_id = \(questionId) AND author_kind = 'customer'
                AND created_at > \(now.addingTimeInterval(-60).millisecondsSince1970)
                ORDER BY created_at DESC LIMIT \(QuestionRules.followUpsPerMinute)
                """,
                logger: logger
            ).all { Date(millisecondsSince1970: try $0.decode(Int64.self)) }
            try QuestionRules.checkFollowUpRate(question, recent: recent, at: now)
            if let origin { try await storeReceipt(connection, origin, questionId: questionId, at: now) }
            let message = Message(
                id: messageId, questionId: questionId, authorKind: .customer, helperId: nil, body: body, createdAt: now
            )
            try await insertMessage(connection, message)
            try await markIdempotentWrite(
                connection, idempotency, IdempotentWrite(questionId: questionId, messageId: messageId)
            )
            if question.state == .resolved {
                try await reopenRow(connection, question, context: context)
                try await record(connection, .reopened, questionId, actor: actor.id, at: now, ["reason": "customer_message"])
            }
            let waitingBefore = try await awaitingReplySince(connection, questionId)
            // The customer now waits for a reply: the next-response clock starts (staff tier) unless already running.
            try await connection.query(
                """
                UPDATE questions SET updated_at = \(ms), awaiting_reply_since = COALESCE(awaiting_reply_since, \(ms))
                WHERE id = \(questionId)
                """,
                logger: logger
            )
            if question.tier == .staff, question.firstResponseAt != nil,
                let timer = context.planner.staffTimer(.nextResponse, priority: question.priority, from: now)
            {
                try await startTimer(connection, questionId, timer, onlyIfEnded: true)
            }
            // On the volunteer tier an answered question's new follow-up gets a peer window of its own: unanswered,
            // it moves to staff like a new question would.
            if question.tier == .volunteer, question.firstResponseAt != nil, waitingBefore == nil {
                let window = context.planner.peerWindow(priority: question.priority, from: now)
                try await startTimer(connection, questionId, window)
                try await connection.query(
                    "UPDATE questions SET peer_deadline_at = \(window.dueAt.millisecondsSince1970) WHERE id = \(questionId)",
                    logger: logger
                )
            }
            var data = ["message_id": messageId]
            if let origin { data.merge(origin.eventData) { current, _ in current } }
            try await record(connection, .customerReplied, questionId, actor: actor.id, at: now, data)
            try await applyFollowUpRouting(connection, &question, routing, context: context)
            return (try await lockQuestion(connection, questionId), message)
        }
    }

    public func resolve(
        questionId: String, by actor: Helper, note: String?, rating: RatingGrant?, context: ChangeContext
    ) async throws -> Question {
        let now = context.now
        let ms = now.millisecondsSince1970
        return try await transaction { connection in
            var question = try await lockQuestion(connection, questionId)
            try await endExpiredClaim(connection, &question, context: context)
            let waiting = try await awaitingReplySince(connection, questionId)
            try QuestionRules.checkResolve(question, by: actor, note: note, awaitingReply: waiting != nil, at: now)
            try await endClaim(connection, questionId, reason: .resolved, at: ms)
            try await connection.query(
                """
                UPDATE questions SET state = 'resolved', holder_id = NULL, lease_expires_at = NULL, resolved_at = \(ms),
                resolved_by = \(actor.id), updated_at = \(ms), awaiting_reply_since = NULL
                WHERE id = \(questionId)
                """,
                logger: logger
            )
            try await endTimers(connection, questionId, [.resolution], as: .met, at: ms)
            try await endTimers(connection, questionId, [.peerWindow, .firstResponse, .nextResponse], as: .stopped, at: ms)
            var data = ["tier": question.tier.rawValue]
            data["note"] = note
            // The link is the customer's: the timeline never holds it, the outbox only a placeholder for it.
            var outbound: [String: String] = [:]
            if let rating, try await issueRating(connection, question, rating, resolver: actor) {
                outbound["rating_url"] = RatingLinks.placeholder(questionId: questionId, issuedAt: rating.issuedAt)
            }
            try await record(connection, .resolved, questionId, actor: actor.id, at: now, data, outbound: outbound)
            return try await lockQuestion(connection, questionId)
        }
    }

    public func reopen(questionId: String, by actor: Helper, context: ChangeContext) async throws -> Question {
        let now = context.now
        return try await transaction { connection in
            let question = try await lockQuestion(connection, questionId)
            try QuestionRules.checkReopen(question, by: actor)
            try await reopenRow(connection, question, context: context)
            try await record(connection, .reopened, questionId, actor: actor.id, at: now, ["reason": "requested"])
            return try await lockQuestion(connection, questionId)
        }
    }

    public func escalate(
        questionId: String, by actor: Helper, level: Int, note: String, context: ChangeContext
    ) async throws -> Escalation {
        let now = context.now
        return try await transaction { connection in
            var question = try await lockQuestion(connection, questionId)
            try await endExpiredClaim(connection, &question, context: context)
            let reason = try QuestionRules.checkEscalate(question, by: actor, at: now)
            if question.tier == .volunteer {
                try await moveToStaff(
                    connection, &question, endingClaimAs: reason == .handoff ? .handoff : .moved, context: context
                )
            }
            guard
                let id = try await raiseEscalation(
                    connection, questionId, reason, level: level, note: note, actor: actor.id, context: context
                )
            else {
                throw PatenError.conflict(
                    "already_escalated",
                    "Question \(questionId) already has a \(reason.rawValue) escalation at level \(level)."
                )
            }
            guard
                let escalation = try await connection.query(
                    PostgresQuery(unsafeSQL: "\(Escalation.pgSelection) WHERE e.id = $1", binds: binds(id)),
                    logger: logger
                ).first(Escalation.init(pg:))
            else { throw PatenError.notFound("escalation", id: id) }
            return escalation
        }
    }

    public func expireLeases(context: ChangeContext, limit: Int) async throws -> Int {
        let ms = context.now.millisecondsSince1970
        var expired = 0
        // One short transaction per lease, so no question stays locked for longer than its own change; leases
        // another instance is expiring (or a helper is changing) are skipped, not waited for.
        while expired < limit {
            let ended = try await transaction { connection in
                guard
                    var question = try await connection.query(
                        """
                        SELECT \(unescaped: Question.pgColumns) FROM questions
                        WHERE state = 'claimed' AND lease_expires_at <= \(ms)
                        ORDER BY lease_expires_at LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED
                        """,
                        logger: logger
                    ).first(Question.init(pg:))
                else { return false }
                try await endExpiredClaim(connection, &question, context: context)
                return true
            }
            guard ended else { break }
            expired += 1
        }
        return expired
    }

    public func sweep(context: ChangeContext, limit: Int) async throws -> SweepOutcome {
        var outcome = SweepOutcome()
        // One short transaction per due clock (see expireLeases). The question and the clock are both locked, so
        // a clock another instance acted on since this statement's snapshot is re-checked against its new values,
        // and a question being changed elsewhere is left for the next pass.
        while outcome.examined < limit {
            guard let step = try await transaction({ connection in try await sweepOne(connection, context: context) })
            else { break }
            outcome.examined += 1
            outcome.movedToStaff += step.movedToStaff
            outcome.warnings += step.warnings
            outcome.breaches += step.breaches
        }
        return outcome
    }

    /// Acts on the next due clock no other instance holds; nil when there is none.
    func sweepOne(_ connection: PostgresConnection, context: ChangeContext) async throws -> SweepOutcome? {
        let now = context.now
        let ms = now.millisecondsSince1970
        guard
            let (questionId, targetText, statusText, dueMs) = try await connection.query(
                """
                SELECT t.question_id, t.target, t.status, t.due_at FROM sla_timers t
                JOIN questions q ON q.id = t.question_id
                WHERE t.next_check_at IS NOT NULL AND t.next_check_at <= \(ms)
                ORDER BY t.next_check_at LIMIT 1 FOR NO KEY UPDATE OF q, t SKIP LOCKED
                """,
                logger: logger
            ).first({ try $0.decode((String, String, String, Int64).self) })
        else { return nil }
        guard let target = SLATarget(rawValue: targetText), let status = SLAStatus(rawValue: statusText) else {
            throw PatenError(.unavailable, code: "corrupt_row", message: "Clock \(targetText) of \(questionId) is not readable.")
        }
        var outcome = SweepOutcome()
        var question = try await lockQuestion(connection, questionId)
        let dueAt = Date(millisecondsSince1970: dueMs)
        if target == .peerWindow {
            // Unanswered: never answered, or a follow-up that no helper has answered yet.
            let waiting = try await awaitingReplySince(connection, questionId)
            let unanswered = question.firstResponseAt == nil || waiting != nil
            guard question.tier == .volunteer, question.state != .resolved, unanswered else {
                try await endTimers(connection, questionId, [.peerWindow], as: .stopped, at: ms)
                return outcome
            }
            try await endTimers(connection, questionId, [.peerWindow], as: .breached, at: ms)
            try await moveToStaff(connection, &question, endingClaimAs: .moved, context: context)
            try await raiseEscalation(
                connection, questionId, .peerWindowExpired, note: "No volunteer answered within the peer window.",
                actor: nil, context: context
            )
            outcome.movedToStaff = 1
        } else if dueAt <= now {
            try await connection.query(
                """
                UPDATE sla_timers SET status = 'breached', next_check_at = NULL
                WHERE question_id = \(questionId) AND target = \(target.rawValue)
                """,
                logger: logger
            )
            if target == .nextResponse {
                try await connection.query(
                    "UPDATE questions SET next_response_breaches = next_response_breaches + 1 WHERE id = \(questionId)",
                    logger: logger
                )
            }
            try await record(
                connection, .slaBreached, questionId, actor: nil, at: now,
                ["target": target.rawValue, "due_at": String(dueMs)]
            )
            try await raiseEscalation(
                connection, questionId, .slaBreached, note: "The \(target.rawValue) target was breached.", actor: nil,
                context: context
            )
            outcome.breaches = 1
        } else if status == .running {
            try await connection.query(
                """
                UPDATE sla_timers SET status = 'warned', next_check_at = due_at
                WHERE question_id = \(questionId) AND target = \(target.rawValue)
                """,
                logger: logger
            )
            try await record(
                connection, .slaWarning, questionId, actor: nil, at: now,
                ["target": target.rawValue, "due_at": String(dueMs)]
            )
            try await raiseEscalation(
                connection, questionId, .slaWarning,
                note: "The \(target.rawValue) target is due at \(dueAt.formatted(.iso8601)).", actor: nil,
                context: context
            )
            outcome.warnings = 1
        } else {
            // A clock in no state to act on (the repository never leaves one so): check it again when it falls due,
            // so the pass moves on.
            try await connection.query(
                "UPDATE sla_timers SET next_check_at = due_at WHERE question_id = \(questionId) AND target = \(target.rawValue)",
                logger: logger
            )
        }
        return outcome
    }
}

// Statements shared by the transactions above. Each runs inside the caller's transaction, on a question whose row
// the caller has locked.
extension PostgresStore {
    /// The question, its row locked until the transaction ends.
    func lockQuestion(_ connection: PostgresConnection, _ id: String) async throws -> Question {
        guard
            let question = try await connection.query(
                "SELECT \(unescaped: Question.pgColumns) FROM questions WHERE id = \(id) FOR NO KEY UPDATE", logger: logger
            ).first(Question.init(pg:))
        else { throw PatenError.notFound("question", id: id) }
        return question
    }

    /// If the question's lease ran out, ends the claim, frees the question and records the expiry; the second
    /// expiry on one question escalates it.
    func endExpiredClaim(_ connection: PostgresConnection, _ question: inout Question, context: ChangeContext) async throws {
        let now = context.now
        let ms = now.millisecondsSince1970
        guard question.state == .claimed, let expiry = question.leaseExpiresAt, expiry <= now else { return }
        // Only a lease that ran out with no reply from its holder counts towards the claim_expired escalation.
        let replied =
            try await connection.query(
                """
                SELECT COUNT(*) FROM messages m JOIN claims c ON c.question_id = m.question_id
                WHERE c.question_id = \(question.id) AND c.ended_at IS NULL AND m.helper_id = c.helper_id
                AND m.created_at >= c.claimed_at
                """,
                logger: logger
            ).first { try $0.decode(Int.self) } ?? 0
        try await endClaim(connection, question.id, reason: .expired, at: ms)
        let expiries =
            try await connection.query(
                """
                UPDATE questions SET state = 'open', holder_id = NULL, lease_expires_at = NULL, updated_at = \(ms),
                claim_expiries = claim_expiries + \(replied == 0 ? 1 : 0)
                WHERE id = \(question.id) RETURNING claim_expiries
                """,
                logger: logger
            ).first { try $0.decode(Int.self) } ?? 0
        try await record(
            connection, .claimExpired, question.id, actor: nil, at: now,
            ["holder_id": question.holderId ?? "", "lease_expired_at": String(expiry.millisecondsSince1970)]
        )
        question.state = .open
        question.holderId = nil
        question.leaseExpiresAt = nil
        if replied == 0 && expiries >= 2 {
            try await raiseEscalation(
                connection, question.id, .claimExpired, note: "Claimed twice and both leases ran out without a reply.",
                actor: nil, context: context
            )
        }
    }

    func endClaim(_ connection: PostgresConnection, _ questionId: String, reason: ClaimEnd, at ms: Int64) async throws {
        try await connection.query(
            """
            UPDATE claims SET ended_at = \(ms), end_reason = \(reason.rawValue)
            WHERE question_id = \(questionId) AND ended_at IS NULL
            """,
            logger: logger
        )
    }

    func renewLease(_ connection: PostgresConnection, _ questionId: String, until expiry: Int64, at ms: Int64) async throws {
        try await connection.query(
            "UPDATE claims SET expires_at = \(expiry) WHERE question_id = \(questionId) AND ended_at IS NULL",
            logger: logger
        )
        try await connection.query(
            "UPDATE questions SET lease_expires_at = \(expiry), updated_at = \(ms) WHERE id = \(questionId)",
            logger: logger
        )
    }

    /// Reopens a resolved question and starts its clocks again: the peer window for an unanswered volunteer-tier
    /// question, the staff first-response (if unanswered) and resolution clocks for a staff-tier one.
    func reopenRow(_ connection: PostgresConnection, _ question: Question, context: ChangeContext) async throws {
        let now = context.now
        try await connection.query(
            """
            UPDATE questions SET state = 'open', resolved_at = NULL, resolved_by = NULL,
            updated_at = \(now.millisecondsSince1970) WHERE id = \(question.id)
            """,
            logger: logger
        )
        switch question.tier {
        case .volunteer where question.firstResponseAt == nil:
            try await startTimer(connection, question.id, context.planner.peerWindow(priority: question.priority, from: now))
        case .volunteer:
            break
        case .staff:
            let timers = context.planner.staffArrival(
                priority: question.priority, at: now, alreadyAnswered: question.firstResponseAt != nil
            )
            for timer in timers { try await startTimer(connection, question.id, timer) }
        }
    }

    /// Moves a volunteer-tier question to staff: ends any claim, stops the peer window, starts the staff clocks.
    func moveToStaff(
        _ connection: PostgresConnection, _ question: inout Question, endingClaimAs end: ClaimEnd, reason: String? = nil,
        context: ChangeContext
    ) async throws {
        let now = context.now
        let ms = now.millisecondsSince1970
        let holder = question.holderId
        try await endClaim(connection, question.id, reason: end, at: ms)
        let waiting =
            try await connection.query(
                """
                UPDATE questions SET tier = 'staff', moved_to_staff_at = \(ms), updated_at = \(ms),
                state = CASE WHEN state = 'claimed' THEN 'open' ELSE state END,
                holder_id = NULL, lease_expires_at = NULL
                WHERE id = \(question.id) RETURNING awaiting_reply_since
                """,
                logger: logger
            ).first { try $0.decode(Int64?.self) } ?? nil
        try await endTimers(connection, question.id, [.peerWindow], as: .stopped, at: ms)
        let timers = context.planner.staffArrival(
            priority: question.priority, at: now, alreadyAnswered: question.firstResponseAt != nil
        )
        for timer in timers { try await startTimer(connection, question.id, timer) }
        if waiting != nil, question.firstResponseAt != nil,
            let timer = context.planner.staffTimer(.nextResponse, priority: question.priority, from: now)
        {
            try await startTimer(connection, question.id, timer)
        }
        question = try await lockQuestion(connection, question.id)
        var data = ["tier": "staff", "reason": reason ?? (end == .handoff ? "handoff" : "moved")]
        data["former_holder_id"] = holder
        try await record(connection, .routed, question.id, actor: nil, at: now, data)
    }

    /// When the customer's latest message has no reply yet, since when.
    func awaitingReplySince(_ connection: PostgresConnection, _ questionId: String) async throws -> Int64? {
        try await connection.query(
            "SELECT awaiting_reply_since FROM questions WHERE id = \(questionId)", logger: logger
        ).first { try $0.decode(Int64?.self) } ?? nil
    }

    /// Acts on what a customer's follow-up names: a critical matter makes the question critical and escalates it;
    /// a critical matter or a staff-only topic moves a volunteer-tier question to staff.
    func applyFollowUpRouting(
        _ connection: PostgresConnection, _ question: inout Question, _ routing: FollowUpRouting,
        context: ChangeContext
    ) async throws {
        guard routing.movesToStaff else { return }
        question = try await lockQuestion(connection, question.id)
        if routing.critical && question.priority != .critical {
            try await connection.query(
                """
                UPDATE questions SET priority = 'critical', priority_rank = \(Priority.critical.rank),
                updated_at = \(context.now.millisecondsSince1970) WHERE id = \(question.id)
                """,
                logger: logger
            )
            question.priority = .critical
        }
        if question.tier == .volunteer {
            try await moveToStaff(connection, &question, endingClaimAs: .moved, reason: routing.reason, context: context)
        }
        if routing.critical {
            try await raiseEscalation(
                connection, question.id, .criticalIntake, note: "A customer follow-up names a critical matter.",
                actor: nil, context: context
            )
        }
    }

    /// Starts (or restarts) a clock; with `onlyIfEnded`, a clock that is still running is left alone.
    func startTimer(
        _ connection: PostgresConnection, _ questionId: String, _ timer: SLATimer, onlyIfEnded: Bool = false
    ) async throws {
        let guardClause = onlyIfEnded ? "WHERE sla_timers.ended_at IS NOT NULL" : ""
        try await connection.query(
            """
            INSERT INTO sla_timers (question_id, target, started_at, warn_at, due_at, next_check_at, status)
            VALUES (\(questionId), \(timer.target.rawValue), \(timer.startedAt.millisecondsSince1970),
            \(timer.warnAt?.millisecondsSince1970), \(timer.dueAt.millisecondsSince1970),
            \(timer.firstCheck.millisecondsSince1970), 'running')
            ON CONFLICT (question_id, target) DO UPDATE SET
            started_at = EXCLUDED.started_at, warn_at = EXCLUDED.warn_at, due_at = EXCLUDED.due_at,
            next_check_at = EXCLUDED.next_check_at, status = 'running', ended_at = NULL
            \(unescaped: guardClause)
            """,
            logger: logger
        )
    }

    /// Ends live clocks; a clock already breached keeps that status, since a late answer does not undo a breach.
    func endTimers(
        _ connection: PostgresConnection, _ questionId: String, _ targets: [SLATarget], as status: SLAStatus,
        at ms: Int64
    ) async throws {
        try await connection.query(
            """
            UPDATE sla_timers SET status = CASE WHEN status = 'breached' THEN 'breached' ELSE \(status.rawValue) END,
            next_check_at = NULL, ended_at = \(ms)
            WHERE question_id = \(questionId) AND ended_at IS NULL AND target = ANY(\(targets.map(\.rawValue)))
            """,
            logger: logger
        )
    }

    func insertMessage(_ connection: PostgresConnection, _ message: Message) async throws {
        try await connection.query(
            """
            INSERT INTO messages (\(unescaped: Message.pgColumns))
            VALUES (\(message.id), \(message.questionId), \(message.authorKind.rawValue), \(message.helperId),
            \(message.body), \(message.createdAt.millisecondsSince1970))
            """,
            logger: logger
        )
    }

    /// Issues the rating link unless the question was rated already; true when issued. The rating is attributed to
    /// the helper whose reply came last (the one that resolved it), else to the resolver.
    func issueRating(
        _ connection: PostgresConnection, _ question: Question, _ grant: RatingGrant, resolver: Helper
    ) async throws -> Bool {
        let lastReplier = try await connection.query(
            """
            SELECT m.helper_id, h.role FROM messages m JOIN helpers h ON h.id = m.helper_id
            WHERE m.question_id = \(question.id) AND m.author_kind = 'helper'
            ORDER BY m.created_at DESC, m.seq DESC LIMIT 1
            """,
            logger: logger
        ).first { try $0.decode((String, String).self) }
        let helper: (id: String, role: String)? =
            lastReplier ?? (resolver.role.answersQuestions ? (resolver.id, resolver.role.rawValue) : nil)
        let tier = helper.map { $0.role == Role.volunteer.rawValue ? Tier.volunteer.rawValue : Tier.staff.rawValue }
        let issued = try await connection.query(
            """
            INSERT INTO ratings (question_id, token_hash, token_expires_at, issued_at, helper_id, helper_tier)
            VALUES (\(question.id), \(grant.tokenHash), \(grant.expiresAt.millisecondsSince1970),
            \(grant.issuedAt.millisecondsSince1970), \(helper?.id), \(tier))
            ON CONFLICT (question_id) DO UPDATE SET
            token_hash = EXCLUDED.token_hash, token_expires_at = EXCLUDED.token_expires_at,
            issued_at = EXCLUDED.issued_at, helper_id = EXCLUDED.helper_id, helper_tier = EXCLUDED.helper_tier
            WHERE ratings.score IS NULL
            RETURNING question_id
            """,
            logger: logger
        ).first { try $0.decode(String.self) }
        return issued != nil
    }

    /// Stores an inbound webhook's id with what it made; a repeat is a `duplicate_webhook` conflict.
    func storeReceipt(
        _ connection: PostgresConnection, _ origin: InboundOrigin, questionId: String, at now: Date
    ) async throws {
        let stored = try await connection.query(
            """
            INSERT INTO webhook_receipts (integration_id, webhook_id, received_at, question_id)
            VALUES (\(origin.integrationId), \(origin.webhookId), \(now.millisecondsSince1970), \(questionId))
            ON CONFLICT (integration_id, webhook_id) DO NOTHING RETURNING webhook_id
            """,
            logger: logger
        ).first { try $0.decode(String.self) }
        guard stored != nil else {
            throw PatenError.conflict("duplicate_webhook", "Webhook \(origin.webhookId) was received before.")
        }
    }

    /// Ties a chat conversation to its new question; a conversation taken meanwhile is `conversation_exists`.
    func startConversation(
        _ connection: PostgresConnection, _ origin: InboundOrigin, questionId: String, at now: Date
    ) async throws {
        let stored = try await connection.query(
            """
            INSERT INTO conversations (integration_id, conversation_id, question_id, created_at)
            VALUES (\(origin.integrationId), \(origin.conversationId), \(questionId), \(now.millisecondsSince1970))
            ON CONFLICT (integration_id, conversation_id) DO NOTHING RETURNING question_id
            """,
            logger: logger
        ).first { try $0.decode(String.self) }
        guard stored != nil else {
            throw PatenError.conflict("conversation_exists", "Conversation \(origin.conversationId) already has a question.")
        }
    }

    /// Handles of the accounts with the ids.
    func handles(_ connection: PostgresConnection, _ ids: [String]) async throws -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        var handles: [String: String] = [:]
        for try await (id, handle) in try await connection.query(
            "SELECT id, handle FROM helpers WHERE id = ANY(\(ids))", logger: logger
        ).decode((String, String).self) {
            handles[id] = handle
        }
        return handles
    }
}
