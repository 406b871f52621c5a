import Foundation
import GRDB
import PatenCore

// Background changes (the sweep, lease expiry) applied as sets: the changes of a batch are about different
// questions, so the n-th write of every change can go in one statement. The writes are taken in rounds, round n
// holding each change's n-th effect: within a round the writes commute (each is about its own question), and across
// rounds every question's writes keep their order. A batch of 500 peer windows that ran out costs about twenty
// statements instead of seven thousand.

extension SQLiteStore {
    /// Most rows one multi-row statement writes (SQLite allows 32,766 bound values; the widest row here has 21).
    static let rowsPerStatement = 500

    /// Applies changes about distinct questions, each as if alone, in as few statements as their shapes allow.
    static func applyBatch(_ db: Database, _ changes: [QuestionChange]) throws -> SweepOutcome {
        precondition(Set(changes.map(\.question.id)).count == changes.count, "one change per question in a batch")
        var outcome = SweepOutcome()
        for change in changes { outcome.add(change.outcome) }
        try updateRows(db, changes.filter(\.writesRow))
        var subscribers: [OutboundSubscriber]?
        func outbound() throws -> [OutboundSubscriber] {
            if let subscribers { return subscribers }
            let loaded = try outboundSubscribers(db)
            subscribers = loaded
            return loaded
        }
        for round in QuestionBatch.rounds(changes) {
            try applyRound(db, round, subscribers: outbound)
        }
        return outcome
    }

    /// Writes the rows of changed questions, a chunk per statement.
    private static func updateRows(_ db: Database, _ changes: [QuestionChange]) throws {
        for chunk in changes.chunked(rowsPerStatement) {
            var arguments: [(any DatabaseValueConvertible)?] = []
            for change in chunk {
                let question = change.question
                let tallies = change.record.tallies
                arguments += [
                    question.id, question.priority.rawValue, question.priority.rank, question.tier.rawValue,
                    question.state.rawValue, question.holderId, question.leaseExpiresAt?.millisecondsSince1970,
                    question.peerDeadlineAt?.millisecondsSince1970, question.firstResponseAt?.millisecondsSince1970,
                    question.resolvedAt?.millisecondsSince1970, question.resolvedBy,
                    question.updatedAt.millisecondsSince1970, tallies.awaitingReplySince?.millisecondsSince1970,
                    tallies.movedToStaffAt?.millisecondsSince1970, tallies.claimExpiries, tallies.nextResponseCount,
                    tallies.nextResponseTotalMs, tallies.nextResponseMaxMs, tallies.nextResponseBreaches,
                    tallies.staffReplies, tallies.volunteerReplies,
                ]
            }
            let rows = Array(repeating: "(\(placeholders(21)))", count: chunk.count).joined(separator: ", ")
            try db.run(
                sql: """
                    WITH v(id, priority, priority_rank, tier, state, holder_id, lease_expires_at, peer_deadline_at,
                    first_response_at, resolved_at, resolved_by, updated_at, awaiting_reply_since, moved_to_staff_at,
                    claim_expiries, next_response_count, next_response_total_ms, next_response_max_ms,
                    next_response_breaches, staff_replies, volunteer_replies) AS (VALUES \(rows))
                    UPDATE questions SET priority = v.priority, priority_rank = v.priority_rank, tier = v.tier,
                    state = v.state, holder_id = v.holder_id, lease_expires_at = v.lease_expires_at,
                    peer_deadline_at = v.peer_deadline_at, first_response_at = v.first_response_at,
                    resolved_at = v.resolved_at, resolved_by = v.resolved_by, updated_at = v.updated_at,
                    awaiting_reply_since = v.awaiting_reply_since, moved_to_staff_at = v.moved_to_staff_at,
                    claim_expiries = v.claim_expiries, next_response_count = v.next_response_count,
                    next_response_total_ms = v.next_response_total_ms, next_response_max_ms = v.next_response_max_ms,
                    next_response_breaches = v.next_response_breaches, staff_replies = v.staff_replies,
                    volunteer_replies = v.volunteer_replies
                    FROM v WHERE questions.id = v.id
                    """,
                arguments: StatementArguments(arguments)
            )
        }
    }

    /// One round: each effect about a different question. Effects of one shape share a statement.
    private static func applyRound(
        _ db: Database, _ round: BatchRound, subscribers: () throws -> [OutboundSubscriber]
    ) throws {
        for (question, effect) in round.singles {
            var single = QuestionChange(inserting: QuestionRecord(question: question))
            single.before = single.record
            single.effects = [effect]
            _ = try apply(db, single)
        }
        for key in round.endedClaims {
            for chunk in key.questionIds.chunked(rowsPerStatement) {
                try db.run(
                    sql: """
                        UPDATE claims SET ended_at = ?, end_reason = ?
                        WHERE ended_at IS NULL AND question_id IN (\(placeholders(chunk.count)))
                        """,
                    arguments: StatementArguments(
                        [key.at.millisecondsSince1970, key.reason.rawValue] + chunk.map { $0 }
                            as [(any DatabaseValueConvertible)?]
                    )
                )
            }
        }
        for group in round.endedTimers {
            for chunk in group.questionIds.chunked(rowsPerStatement) {
                try db.run(
                    sql: """
                        UPDATE sla_timers SET status = CASE WHEN status = 'breached' THEN 'breached' ELSE ? END,
                        next_check_at = NULL, ended_at = ?
                        WHERE ended_at IS NULL AND target IN (\(placeholders(group.targets.count)))
                        AND question_id IN (\(placeholders(chunk.count)))
                        """,
                    arguments: StatementArguments(
                        [group.status.rawValue, group.at.millisecondsSince1970] as [(any DatabaseValueConvertible)?]
                            + group.targets.map(\.rawValue) + chunk.map { $0 }
                    )
                )
            }
        }
        for chunk in round.markedTimers.chunked(rowsPerStatement) {
            try db.run(
                sql: """
                    WITH v(question_id, target, status, next_check_at) AS (VALUES
                    \(Array(repeating: "(?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")))
                    UPDATE sla_timers SET status = v.status, next_check_at = v.next_check_at
                    FROM v WHERE sla_timers.question_id = v.question_id AND sla_timers.target = v.target
                    """,
                arguments: StatementArguments(
                    chunk.flatMap { id, target, status, next in
                        [id, target.rawValue, status.rawValue, next?.millisecondsSince1970]
                            as [(any DatabaseValueConvertible)?]
                    }
                )
            )
        }
        for (onlyIfEnded, timers) in round.startedTimers {
            for chunk in timers.chunked(rowsPerStatement) {
                try db.run(
                    sql: """
                        INSERT INTO sla_timers (question_id, target, started_at, warn_at, due_at, next_check_at, status)
                        VALUES \(Array(repeating: "(?, ?, ?, ?, ?, ?, 'running')", count: chunk.count).joined(separator: ", "))
                        ON CONFLICT (question_id, target) DO UPDATE SET
                        started_at = excluded.started_at, warn_at = excluded.warn_at, due_at = excluded.due_at,
                        next_check_at = excluded.next_check_at, status = 'running', ended_at = NULL
                        \(onlyIfEnded ? "WHERE sla_timers.ended_at IS NOT NULL" : "")
                        """,
                    arguments: StatementArguments(
                        chunk.flatMap { id, timer in
                            [
                                id, timer.target.rawValue, timer.startedAt.millisecondsSince1970,
                                timer.warnAt?.millisecondsSince1970, timer.dueAt.millisecondsSince1970,
                                timer.firstCheck.millisecondsSince1970,
                            ] as [(any DatabaseValueConvertible)?]
                        }
                    )
                )
            }
        }
        try recordAll(db, round.events.map { ($0, nil) }, subscribers: subscribers)
        try raiseAll(db, round.escalations, subscribers: subscribers)
    }

    /// Timeline events in one statement per chunk, then their outbox messages.
    private static func recordAll(
        _ db: Database, _ facts: [(TimelineFact, Escalation?)], subscribers: () throws -> [OutboundSubscriber]
    ) throws {
        for chunk in facts.chunked(rowsPerStatement) {
            try db.run(
                sql: """
                    INSERT INTO question_events (question_id, type, actor_id, at, data)
                    VALUES \(Array(repeating: "(?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", "))
                    """,
                arguments: StatementArguments(
                    chunk.flatMap { fact, _ in
                        [
                            fact.question.id, fact.type.rawValue, fact.actorId, fact.at.millisecondsSince1970,
                            StoredValue.json(fact.data),
                        ] as [(any DatabaseValueConvertible)?]
                    }
                )
            )
        }
        let listening = try facts.isEmpty ? [] : subscribers()
        guard !listening.isEmpty else { return }
        for (fact, escalation) in facts {
            guard let outbound = OutboundEventType(fact.type) else { continue }
            try publish(
                db, outbound, questionId: fact.question.id, actor: fact.actorId, at: fact.at,
                details: fact.data.merging(fact.outbound) { _, added in added }, escalation: escalation,
                question: fact.question, subscribers: listening
            )
        }
    }

    /// Escalations in one statement per chunk; those that were new get their change-feed rows and timeline events.
    private static func raiseAll(
        _ db: Database, _ drafts: [(Question, EscalationDraft)], subscribers: () throws -> [OutboundSubscriber]
    ) throws {
        var raised: [(TimelineFact, Escalation?)] = []
        for chunk in drafts.chunked(rowsPerStatement) {
            try db.run(
                sql: """
                    INSERT INTO escalations (id, question_id, reason, level, state, note, created_by, created_at,
                    updated_at) VALUES
                    \(Array(repeating: "(?, ?, ?, ?, 'open', ?, ?, ?, ?)", count: chunk.count).joined(separator: ", "))
                    ON CONFLICT (question_id, reason, level) DO NOTHING
                    """,
                arguments: StatementArguments(
                    chunk.flatMap { question, draft in
                        [
                            draft.id, question.id, draft.reason.rawValue, draft.level, draft.note, draft.actorId,
                            draft.at.millisecondsSince1970, draft.at.millisecondsSince1970,
                        ] as [(any DatabaseValueConvertible)?]
                    }
                )
            )
            // Usually every one is new; otherwise ask which (their ids are new, so present means inserted now).
            let inserted: Set<String> =
                db.changesCount == chunk.count
                ? Set(chunk.map(\.1.id))
                : Set(
                    try String.fetchAll(
                        db, sql: "SELECT id FROM escalations WHERE id IN (\(placeholders(chunk.count)))",
                        arguments: StatementArguments(chunk.map(\.1.id))
                    )
                )
            for (question, draft) in chunk {
                guard inserted.contains(draft.id) else {
                    if let error = draft.ifExists { throw error }
                    continue
                }
                raised.append((draft.event, draft.escalation(about: question)))
            }
        }
        for chunk in raised.chunked(rowsPerStatement) {
            try db.run(
                sql: """
                    INSERT INTO escalation_changes (escalation_id, kind, at)
                    VALUES \(Array(repeating: "(?, ?, ?)", count: chunk.count).joined(separator: ", "))
                    """,
                arguments: StatementArguments(
                    chunk.flatMap { fact, escalation in
                        [escalation?.id, EscalationChange.Kind.created.rawValue, fact.at.millisecondsSince1970]
                            as [(any DatabaseValueConvertible)?]
                    }
                )
            )
        }
        try recordAll(db, raised, subscribers: subscribers)
    }
}

extension Array {
    /// The array in consecutive pieces of at most `size` elements.
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
