import Foundation
import GRDB
import PatenCore

extension SQLiteStore: QuestionRepository {
    public func insertQuestion(
        _ draft: QuestionDraft, messageId: String, idempotency: IdempotencyReservation?, context: ChangeContext
    ) async throws
        -> Question
    {
        let question = draft.question
        try await pool.write { db in
            try db.run(
                sql: """
                    INSERT INTO questions (\(Question.columns), priority_rank)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, NULL, NULL, NULL, ?, ?, ?, ?)
                    """,
                arguments: [
                    question.id, question.subject, question.customer.id, question.customer.name, question.channel,
                    question.topic, question.language, question.priority.rawValue, question.tier.rawValue,
                    question.state.rawValue, question.peerDeadlineAt?.millisecondsSince1970, question.createdBy,
                    question.createdAt.millisecondsSince1970, question.updatedAt.millisecondsSince1970,
                    question.priority.rank,
                ]
            )
            try Self.markIdempotentWrite(db, idempotency, IdempotentWrite(questionId: question.id))
            try Self.insertMessage(
                db,
                Message(
                    id: messageId, questionId: question.id, authorKind: .customer, helperId: nil, body: draft.body,
                    createdAt: question.createdAt
                )
            )
            var created = ["channel": question.channel, "message_id": messageId]
            if let origin = draft.origin {
                try Self.storeReceipt(db, origin, questionId: question.id, at: question.createdAt)
                try Self.startConversation(db, origin, questionId: question.id, at: question.createdAt)
                created.merge(origin.eventData) { current, _ in current }
            }
            try Self.record(db, .created, question.id, actor: question.createdBy, at: question.createdAt, created)
            var routed = [
                "tier": question.tier.rawValue, "reason": draft.routingReason, "topic": question.topic,
                "priority": question.priority.rawValue, "language": question.language,
            ]
            routed["peer_deadline_at"] = question.peerDeadlineAt.map { String($0.millisecondsSince1970) }
            try Self.record(db, .routed, question.id, actor: nil, at: question.createdAt, routed)
            switch question.tier {
            case .volunteer:
                try Self.startTimer(db, question.id, context.planner.peerWindow(priority: question.priority, from: question.createdAt))
            case .staff:
                for timer in context.planner.staffArrival(priority: question.priority, at: question.createdAt, alreadyAnswered: false) {
                    try Self.startTimer(db, question.id, timer)
                }
            }
            if question.priority == .critical {
                try Self.raiseEscalation(
                    db, question, .criticalIntake, note: "Critical priority at intake.", actor: nil, context: context
                )
            }
        }
        return question
    }

    public func question(id: String) async throws -> Question? {
        try await pool.read { db in try Self.fetchQuestion(db, id) }
    }

    public func questionDetail(id: String, page: DetailPage) async throws -> QuestionDetail? {
        try await pool.read { db in
            guard let question = try Self.fetchQuestion(db, id) else { return nil }
            // One page of each, read one row past the limit to know whether more follow. A message cursor names the
            // last message read; one that is not this question's matches nothing (an empty page), not the start.
            var messageFilter = ""
            var messageArguments: StatementArguments = [id]
            if let after = page.messagesAfter {
                messageFilter =
                    "AND (created_at, rowid) > (SELECT created_at, rowid FROM messages WHERE id = ? AND question_id = ?)"
                messageArguments += [after, id]
            }
            messageArguments += [page.messageLimit + 1]
            let messages = try db.fetchAll(
                Message.self,
                sql: """
                    SELECT \(Message.columns) FROM messages WHERE question_id = ? \(messageFilter)
                    ORDER BY created_at, rowid LIMIT ?
                    """,
                arguments: messageArguments
            )
            let events = try db.fetchAll(
                QuestionEvent.self,
                sql: """
                    SELECT \(QuestionEvent.columns) FROM question_events WHERE question_id = ? AND seq > ?
                    ORDER BY seq LIMIT ?
                    """,
                arguments: [id, page.eventsAfter ?? 0, page.eventLimit + 1]
            )
            let shownMessages = Array(messages.prefix(page.messageLimit))
            let shownEvents = Array(events.prefix(page.eventLimit))
            var named = Set(shownMessages.compactMap(\.helperId) + shownEvents.compactMap(\.actorId))
            if let holder = question.holderId { named.insert(holder) }
            if let resolver = question.resolvedBy { named.insert(resolver) }
            let link = try Row.fetchOne(
                db, sql: "SELECT token_hash, issued_at, token_expires_at, score FROM ratings WHERE question_id = ?",
                arguments: [id]
            ).map { row in
                IssuedRatingLink(
                    tokenHash: row["token_hash"], issuedAt: Date(millisecondsSince1970: row["issued_at"]),
                    expiresAt: Date(millisecondsSince1970: row["token_expires_at"]), used: (row["score"] as Int?) != nil
                )
            }
            return QuestionDetail(
                question: question, messages: shownMessages, events: shownEvents,
                handles: try Self.handles(db, Array(named)),
                messagesNext: messages.count > page.messageLimit ? shownMessages.last?.id : nil,
                eventsNext: events.count > page.eventLimit ? shownEvents.last?.sequence : nil, ratingLink: link
            )
        }
    }

    public func questions(matching filter: QuestionFilter) async throws -> QuestionPage {
        var conditions: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        func add(_ condition: String, _ values: (any DatabaseValueConvertible)?...) {
            conditions.append(condition)
            arguments.append(contentsOf: values)
        }
        if let state = filter.state { add("state = ?", state.rawValue) }
        if let tier = filter.tier { add("tier = ?", tier.rawValue) }
        if let topic = filter.topic { add("topic = ?", topic) }
        if let holder = filter.holderId { add("holder_id = ?", holder) }
        if let channel = filter.channel { add("channel = ?", channel) }
        if let after = filter.after {
            // A row-value comparison lets the index seek straight to the page.
            add("(created_at, id) < (?, ?)", after.createdAt.millisecondsSince1970, after.id)
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments.append(filter.limit + 1)
        let bound = StatementArguments(arguments)
        let rows = try await pool.read { db in
            try db.fetchAll(
                Question.self,

                sql: """
                    SELECT \(Question.columns) FROM questions \(whereClause)
                    ORDER BY created_at DESC, id DESC LIMIT ?
                    """,
                arguments: bound
            )
        }
        let page = Array(rows.prefix(filter.limit))
        let next = rows.count > filter.limit ? page.last.map { QuestionCursor(createdAt: $0.createdAt, id: $0.id) } : nil
        return QuestionPage(questions: page, next: next)
    }

    public func queue(for helper: Helper, tiers: [Tier], at now: Date, limit: Int) async throws -> [Question] {
        guard !tiers.isEmpty else { return [] }
        // Best first: one point each for a topic in the helper's skills and a language they speak, then higher
        // priority, then longest waiting. Open questions are read one score at a time along the index of open
        // questions by priority and age, each read stopping after a page; questions whose claim ran out (few:
        // lease expiry frees them every few seconds) come from the lease index. The pieces are merged here.
        func membership(_ column: String, _ values: [String]) -> String {
            values.isEmpty ? "0" : "(CASE WHEN \(column) IN (\(placeholders(values.count))) THEN 1 ELSE 0 END)"
        }
        let score = "\(membership("topic", helper.skills)) + \(membership("language", helper.languages))"
        let scoreValues = helper.skills + helper.languages
        let tierValues = tiers.map(\.rawValue)
        let nowMs = now.millisecondsSince1970
        let open = """
            SELECT \(Question.columns), \(score) AS score FROM questions INDEXED BY questions_open_by_rank
            WHERE state = 'open' AND tier IN (\(placeholders(tiers.count))) AND \(score) = ?
            ORDER BY priority_rank DESC, created_at, id LIMIT ?
            """
        let expired = """
            SELECT \(Question.columns), \(score) AS score FROM questions
            WHERE state = 'claimed' AND lease_expires_at <= ? AND tier IN (\(placeholders(tiers.count)))
            """
        let best = helper.skills.isEmpty ? (helper.languages.isEmpty ? 0 : 1) : (helper.languages.isEmpty ? 1 : 2)
        let ranked = try await pool.read { db -> [(question: Question, score: Int, rank: Int)] in
            var found: [(question: Question, score: Int, rank: Int)] = []
            // Cached per connection: the text varies only with how many skills and languages a helper has.
            let expiredRows = try db.fetchAll(
                Row.self, sql: expired,
                arguments: StatementArguments(
                    scoreValues.map { $0 as (any DatabaseValueConvertible)? } + [nowMs] + tierValues.map { $0 }
                )
            )
            for row in expiredRows {
                let question = try Question(row: row)
                found.append((question, row["score"], question.priority.rank))
            }
            for bucket in stride(from: best, through: 0, by: -1) {
                // Higher buckets already fill the page: lower ones cannot make it in.
                if found.filter({ $0.score > bucket }).count >= limit { break }
                let rows = try db.fetchAll(
                    Row.self, sql: open,
                    arguments: StatementArguments(
                        (scoreValues + tierValues + scoreValues).map { $0 as (any DatabaseValueConvertible)? }
                            + [bucket, limit]
                    )
                )
                for row in rows {
                    let question = try Question(row: row)
                    found.append((question, bucket, question.priority.rank))
                }
            }
            return found
        }
        return ranked.sorted {
            ($1.score, $1.rank, $0.question.createdAt, $0.question.id) < ($0.score, $0.rank, $1.question.createdAt, $1.question.id)
        }.prefix(limit).map(\.question)
    }

    public func claim(
        questionId: String, by helper: Helper, claimId: String, lease: TimeInterval, context: ChangeContext
    )
        async throws -> Question
    {
        let now = context.now
        do {
            return try await pool.write { db in
                var question = try Self.requireQuestion(db, questionId)
                try Self.endExpiredClaim(db, &question, context: context)
                let live =
                    try db.fetchOne(
                        Int.self,

                        sql: "SELECT COUNT(*) FROM claims WHERE helper_id = ? AND ended_at IS NULL AND expires_at > ?",
                        arguments: [helper.id, now.millisecondsSince1970]
                    ) ?? 0
                let holderHandle = try question.holderId.flatMap { try Self.handles(db, [$0])[$0] }
                try QuestionRules.checkClaim(
                    question, by: helper, activeClaims: live, holderHandle: holderHandle, at: now
                )
                let expires = now.addingTimeInterval(lease)
                if question.state == .claimed {
                    // The holder claiming again renews the lease; no new claim, no new event.
                    try Self.renewLease(db, questionId, until: expires, at: now)
                } else {
                    try db.run(
                        sql: "INSERT INTO claims (id, question_id, helper_id, claimed_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                        arguments: [
                            claimId, questionId, helper.id, now.millisecondsSince1970, expires.millisecondsSince1970,
                        ]
                    )
                    try db.run(
                        sql: """
                            UPDATE questions SET state = 'claimed', holder_id = ?, lease_expires_at = ?, updated_at = ?
                            WHERE id = ? AND state = 'open'
                            """,
                        arguments: [
                            helper.id, expires.millisecondsSince1970, now.millisecondsSince1970, questionId,
                        ]
                    )
                    try Self.record(
                        db, .claimed, questionId, actor: helper.id, at: now,
                        ["claim_id": claimId, "lease_expires_at": String(expires.millisecondsSince1970)]
                    )
                }
                return try Self.requireQuestion(db, questionId)
            }
        } catch let error as DatabaseError where error.isUniqueViolation {
            // The one-holder index caught a race the rules did not see; the other claim won.
            let holder = try await question(id: questionId)?.holderId
            let handle = try await holder.asyncFlatMap { try await self.helper(id: $0)?.handle } ?? "another helper"
            throw PatenError.conflict(
                "already_claimed", "Question \(questionId) is already claimed by \(handle).", details: ["holder": handle]
            )
        }
    }

    public func release(questionId: String, by actor: Helper, context: ChangeContext) async throws -> Question {
        let now = context.now
        return try await pool.write { db in
            var question = try Self.requireQuestion(db, questionId)
            try Self.endExpiredClaim(db, &question, context: context)
            try QuestionRules.checkRelease(question, by: actor, at: now)
            try Self.endClaim(db, questionId, reason: .released, at: now)
            try db.run(
                sql: """
                    UPDATE questions SET state = 'open', holder_id = NULL, lease_expires_at = NULL, updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [now.millisecondsSince1970, questionId]
            )
            try Self.record(db, .released, questionId, actor: actor.id, at: now, ["holder_id": question.holderId ?? ""])
            return try Self.requireQuestion(db, questionId)
        }
    }

    public func reply(
        questionId: String, by helper: Helper, messageId: String, body: String, lease: TimeInterval,
        context: ChangeContext
    ) async throws -> (question: Question, message: Message) {
        let now = context.now
        return try await pool.write { db in
            var question = try Self.requireQuestion(db, questionId)
            try Self.endExpiredClaim(db, &question, context: context)
            try QuestionRules.checkReply(question, by: helper, at: now)
            let message = Message(
                id: messageId, questionId: questionId, authorKind: .helper, helperId: helper.id, body: body,
                createdAt: now
            )
            try Self.insertMessage(db, message)
            let isFirst = question.firstResponseAt == nil
            let waiting = try db.fetchOne(
                Int64.self,
                sql: "SELECT awaiting_reply_since FROM questions WHERE id = ?", arguments: [questionId]
            )
            // The first reply answers the question; a later one answers the customer's latest follow-up, if any.
            let responseMs: Int64? =
                isFirst
                ? now.millisecondsSince1970 - question.createdAt.millisecondsSince1970
                : waiting.map { now.millisecondsSince1970 - $0 }
            let nextMs: Int64 = isFirst ? 0 : responseMs ?? 0
            let countsAsNext = !isFirst && waiting != nil
            try db.run(
                sql: """
                    UPDATE questions SET first_response_at = COALESCE(first_response_at, ?), updated_at = ?,
                    awaiting_reply_since = NULL,
                    next_response_count = next_response_count + ?,
                    next_response_total_ms = next_response_total_ms + ?,
                    next_response_max_ms = MAX(next_response_max_ms, ?),
                    staff_replies = staff_replies + ?, volunteer_replies = volunteer_replies + ?
                    WHERE id = ?
                    """,
                arguments: [
                    now.millisecondsSince1970, now.millisecondsSince1970, countsAsNext ? 1 : 0, nextMs, nextMs,
                    helper.role == .volunteer ? 0 : 1, helper.role == .volunteer ? 1 : 0, questionId,
                ]
            )
            try Self.endTimers(db, questionId, [.peerWindow, .firstResponse, .nextResponse], as: .met, at: now)
            if question.state == .claimed && question.holderId == helper.id {
                try Self.renewLease(db, questionId, until: now.addingTimeInterval(lease), at: now)
            }
            var data = [
                "message_id": messageId, "first_response": isFirst ? "true" : "false", "tier": question.tier.rawValue,
                "helper_role": helper.role.rawValue,
            ]
            if isFirst || countsAsNext {
                data["response_ms"] = responseMs.map { String($0) }
                data["response_kind"] = isFirst ? "first" : "next"
            }
            try Self.record(db, .replied, questionId, actor: helper.id, at: now, data)
            return (try Self.requireQuestion(db, questionId), message)
        }
    }

    public func addCustomerMessage(
        questionId: String, by actor: Helper, messageId: String, body: String, origin: InboundOrigin?,
        routing: FollowUpRouting, idempotency: IdempotencyReservation?, context: ChangeContext
    ) async throws -> (question: Question, message: Message) {
        let now = context.now
        return try await pool.write { db in
            var question = try Self.requireQuestion(db, questionId)
            try QuestionRules.checkCustomerMessage(question, by: actor)
            let recent = try Int64.fetchAll(
                db,
                sql: """
                    SELECT created_at FROM messages WHERE question_id = ? AND author_kind = 'customer' AND created_at > ?
                    ORDER BY created_at DESC LIMIT ?
                    """,
                arguments: [
                    questionId, now.addingTimeInterval(-60).millisecondsSince1970, QuestionRules.followUpsPerMinute,
                ]
            )
            try QuestionRules.checkFollowUpRate(question, recent: recent.map(Date.init(millisecondsSince1970:)), at: now)
            if let origin { try Self.storeReceipt(db, origin, questionId: questionId, at: now) }
            let message = Message(
                id: messageId, questionId: questionId, authorKind: .customer, helperId: nil, body: body, createdAt: now
            )
            try Self.insertMessage(db, message)
            try Self.markIdempotentWrite(db, idempotency, IdempotentWrite(questionId: questionId, messageId: messageId))
            if question.state == .resolved {
                try Self.reopenRow(db, question, context: context)
                try Self.record(db, .reopened, questionId, actor: actor.id, at: now, ["reason": "customer_message"])
            }
            let waitingBefore = try Int64.fetchOne(
                db, sql: "SELECT awaiting_reply_since FROM questions WHERE id = ?", arguments: [questionId]
            )
            // The customer now waits for a reply: the next-response clock starts (staff tier) unless already running.
            try db.run(
                sql: """
                    UPDATE questions SET updated_at = ?, awaiting_reply_since = COALESCE(awaiting_reply_since, ?)
                    WHERE id = ?
                    """,
                arguments: [now.millisecondsSince1970, now.millisecondsSince1970, questionId]
            )
            if question.tier == .staff, question.firstResponseAt != nil,
                let timer = context.planner.staffTimer(.nextResponse, priority: question.priority, from: now)
            {
                try Self.startTimer(db, questionId, timer, onlyIfEnded: true)
            }
            // On the volunteer tier an answered question's new follow-up gets a peer window of its own: unanswered,
            // it moves to staff like a new question would.
            if question.tier == .volunteer, question.firstResponseAt != nil, waitingBefore == nil {
                let window = context.planner.peerWindow(priority: question.priority, from: now)
                try Self.startTimer(db, questionId, window)
                try db.run(
                    sql: "UPDATE questions SET peer_deadline_at = ? WHERE id = ?",
                    arguments: [window.dueAt.millisecondsSince1970, questionId]
                )
            }
            var data = ["message_id": messageId]
            if let origin { data.merge(origin.eventData) { current, _ in current } }
            try Self.record(db, .customerReplied, questionId, actor: actor.id, at: now, data)
            try Self.applyFollowUpRouting(db, &question, routing, context: context)
            return (try Self.requireQuestion(db, questionId), message)
        }
    }

    public func resolve(
        questionId: String, by actor: Helper, note: String?, rating: RatingGrant?, context: ChangeContext
    )
        async throws -> Question
    {
        let now = context.now
        return try await pool.write { db in
            var question = try Self.requireQuestion(db, questionId)
            try Self.endExpiredClaim(db, &question, context: context)
            let waiting = try Int64.fetchOne(
                db, sql: "SELECT awaiting_reply_since FROM questions WHERE id = ?", arguments: [questionId]
            )
            try QuestionRules.checkResolve(question, by: actor, note: note, awaitingReply: waiting != nil, at: now)
            try Self.endClaim(db, questionId, reason: .resolved, at: now)
            try db.run(
                sql: """
                    UPDATE questions SET state = 'resolved', holder_id = NULL, lease_expires_at = NULL,
                    resolved_at = ?, resolved_by = ?, updated_at = ?, awaiting_reply_since = NULL
                    WHERE id = ?
                    """,
                arguments: [now.millisecondsSince1970, actor.id, now.millisecondsSince1970, questionId]
            )
            try Self.endTimers(db, questionId, [.resolution], as: .met, at: now)
            try Self.endTimers(db, questionId, [.peerWindow, .firstResponse, .nextResponse], as: .stopped, at: now)
            var data = ["tier": question.tier.rawValue]
            data["note"] = note
            // The link is the customer's: the timeline never holds it, the outbox only a placeholder for it.
            var outbound: [String: String] = [:]
            if let rating, try Self.issueRating(db, question, rating, resolver: actor) {
                outbound["rating_url"] = RatingLinks.placeholder(questionId: questionId, issuedAt: rating.issuedAt)
            }
            try Self.record(db, .resolved, questionId, actor: actor.id, at: now, data, outbound: outbound)
            return try Self.requireQuestion(db, questionId)
        }
    }

    public func reopen(questionId: String, by actor: Helper, context: ChangeContext) async throws -> Question {
        let now = context.now
        return try await pool.write { db in
            let question = try Self.requireQuestion(db, questionId)
            try QuestionRules.checkReopen(question, by: actor)
            try Self.reopenRow(db, question, context: context)
            try Self.record(db, .reopened, questionId, actor: actor.id, at: now, ["reason": "requested"])
            return try Self.requireQuestion(db, questionId)
        }
    }

    public func expireLeases(context: ChangeContext, limit: Int) async throws -> Int {
        let now = context.now
        return try await pool.write { db in
            let due = try db.fetchAll(
                String.self,

                sql: """
                    SELECT id FROM questions WHERE state = 'claimed' AND lease_expires_at <= ?
                    ORDER BY lease_expires_at LIMIT ?
                    """,
                arguments: [now.millisecondsSince1970, limit]
            )
            for id in due {
                var question = try Self.requireQuestion(db, id)
                try Self.endExpiredClaim(db, &question, context: context)
            }
            return due.count
        }
    }

    public func isReady() async throws -> Bool {
        try await pendingMigrations().isEmpty
    }
}

// Statements shared by the transactions above. Each runs inside the caller's transaction.
extension SQLiteStore {
    static func fetchQuestion(_ db: Database, _ id: String) throws -> Question? {
        try db.fetchOne(Question.self, sql: "SELECT \(Question.columns) FROM questions WHERE id = ?", arguments: [id])
    }

    static func requireQuestion(_ db: Database, _ id: String) throws -> Question {
        guard let question = try fetchQuestion(db, id) else { throw PatenError.notFound("question", id: id) }
        return question
    }

    /// If the question's lease ran out, ends the claim, frees the question and records the expiry; the second
    /// expiry on one question escalates it.
    static func endExpiredClaim(_ db: Database, _ question: inout Question, context: ChangeContext) throws {
        let now = context.now
        guard question.state == .claimed, let expiry = question.leaseExpiresAt, expiry <= now else { return }
        // Only a lease that ran out with no reply from its holder counts towards the claim_expired escalation.
        let repliedDuringClaim =
            try db.fetchOne(
                Int.self,
                sql: """
                    SELECT COUNT(*) FROM messages m JOIN claims c ON c.question_id = m.question_id
                    WHERE c.question_id = ? AND c.ended_at IS NULL AND m.helper_id = c.helper_id
                    AND m.created_at >= c.claimed_at
                    """,
                arguments: [question.id]
            ) ?? 0
        try endClaim(db, question.id, reason: .expired, at: now)
        try db.run(
            sql: """
                UPDATE questions SET state = 'open', holder_id = NULL, lease_expires_at = NULL, updated_at = ?,
                claim_expiries = claim_expiries + ?
                WHERE id = ?
                """,
            arguments: [now.millisecondsSince1970, repliedDuringClaim == 0 ? 1 : 0, question.id]
        )
        try record(
            db, .claimExpired, question.id, actor: nil, at: now,
            ["holder_id": question.holderId ?? "", "lease_expired_at": String(expiry.millisecondsSince1970)]
        )
        question.state = .open
        question.holderId = nil
        question.leaseExpiresAt = nil
        let expiries = try db.fetchOne(Int.self, sql: "SELECT claim_expiries FROM questions WHERE id = ?", arguments: [question.id])
        if repliedDuringClaim == 0 && (expiries ?? 0) >= 2 {
            try raiseEscalation(
                db, question, .claimExpired, note: "Claimed twice and both leases ran out without a reply.", actor: nil,
                context: context
            )
        }
    }

    static func endClaim(_ db: Database, _ questionId: String, reason: ClaimEnd, at now: Date) throws {
        try db.run(
            sql: "UPDATE claims SET ended_at = ?, end_reason = ? WHERE question_id = ? AND ended_at IS NULL",
            arguments: [now.millisecondsSince1970, reason.rawValue, questionId]
        )
    }

    static func renewLease(_ db: Database, _ questionId: String, until expiry: Date, at now: Date) throws {
        try db.run(
            sql: "UPDATE claims SET expires_at = ? WHERE question_id = ? AND ended_at IS NULL",
            arguments: [expiry.millisecondsSince1970, questionId]
        )
        try db.run(
            sql: "UPDATE questions SET lease_expires_at = ?, updated_at = ? WHERE id = ?",
            arguments: [expiry.millisecondsSince1970, now.millisecondsSince1970, questionId]
        )
    }

    /// Reopens a resolved question and starts its clocks again: the peer window for an unanswered volunteer-tier
    /// question, the staff first-response (if unanswered) and resolution clocks for a staff-tier one.
    static func reopenRow(_ db: Database, _ question: Question, context: ChangeContext) throws {
        let now = context.now
        try db.run(
            sql: """
                UPDATE questions SET state = 'open', resolved_at = NULL, resolved_by = NULL, updated_at = ?
                WHERE id = ?
                """,
            arguments: [now.millisecondsSince1970, question.id]
        )
        switch question.tier {
        case .volunteer where question.firstResponseAt == nil:
            try startTimer(db, question.id, context.planner.peerWindow(priority: question.priority, from: now))
        case .volunteer:
            break
        case .staff:
            let timers = context.planner.staffArrival(
                priority: question.priority, at: now, alreadyAnswered: question.firstResponseAt != nil
            )
            for timer in timers { try startTimer(db, question.id, timer) }
        }
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

    /// Records a timeline event and publishes it to subscribers; `extra` facts go to the outbox only.
    static func record(
        _ db: Database, _ type: QuestionEventType, _ questionId: String, actor: String?, at time: Date,
        _ data: [String: String], outbound extra: [String: String] = [:]
    ) throws {
        try db.run(
            sql: "INSERT INTO question_events (question_id, type, actor_id, at, data) VALUES (?, ?, ?, ?, ?)",
            arguments: [questionId, type.rawValue, actor, time.millisecondsSince1970, StoredValue.json(data)]
        )
        if let outbound = OutboundEventType(type) {
            try publish(
                db, outbound, questionId: questionId, actor: actor, at: time,
                details: data.merging(extra) { _, added in added }
            )
        }
    }

    static func handles(_ db: Database, _ ids: [String]) throws -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        let rows = try db.fetchAll(
            Row.self,
            sql: "SELECT id, handle FROM helpers WHERE id IN (\(placeholders(ids.count)))",
            arguments: StatementArguments(ids)
        )
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["id"], $0["handle"]) })
    }
}

/// `?, ?, ?` for a list of `count` bound values.
func placeholders(_ count: Int) -> String {
    Array(repeating: "?", count: count).joined(separator: ", ")
}

extension Optional {
    func asyncFlatMap<T>(_ transform: (Wrapped) async throws -> T?) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
