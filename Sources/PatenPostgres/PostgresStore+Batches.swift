import Foundation
import PatenCore
import PostgresNIO

// Background changes (the sweep, lease expiry) applied as sets, as on SQLite (`SQLiteStore+Batches.swift`): the
// changes of a batch are about different questions, so the n-th write of every change goes in one statement, with
// the values as arrays (`UNNEST`). A round trip costs more than the statement here, so a batch of 100 peer windows
// that ran out costs about twenty round trips instead of fourteen hundred. Arrays cannot hold a SQL NULL through
// PostgresNIO's encoders, so a missing time is sent as -1 and a missing id as '' and turned back with `NULLIF`
// (times are milliseconds since 1970, never negative; ids are never empty).

extension PostgresStore {
    /// Applies changes about distinct questions, each as if alone, in as few statements as their shapes allow.
    /// The new escalations' change-feed rows are added to `feed`, for the caller to write last (`appendCreated`).
    func applyBatch(
        _ connection: PostgresConnection, _ changes: [QuestionChange], feed: inout [(id: String, at: Int64)]
    ) async throws -> SweepOutcome {
        precondition(Set(changes.map(\.question.id)).count == changes.count, "one change per question in a batch")
        var outcome = SweepOutcome()
        for change in changes { outcome.add(change.outcome) }
        try await updateRows(connection, changes.filter(\.writesRow))
        var subscribers: [OutboundSubscriber]?
        for round in QuestionBatch.rounds(changes) {
            try await applyRound(connection, round, subscribers: &subscribers, feed: &feed)
        }
        return outcome
    }

    private func updateRows(_ connection: PostgresConnection, _ changes: [QuestionChange]) async throws {
        guard !changes.isEmpty else { return }
        let questions = changes.map(\.record.question)
        let tallies = changes.map(\.record.tallies)
        try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    UPDATE questions q SET priority = v.priority, priority_rank = v.priority_rank, tier = v.tier,
                    state = v.state, holder_id = NULLIF(v.holder_id, ''),
                    lease_expires_at = NULLIF(v.lease_expires_at, -1), peer_deadline_at = NULLIF(v.peer_deadline_at, -1),
                    first_response_at = NULLIF(v.first_response_at, -1), resolved_at = NULLIF(v.resolved_at, -1),
                    resolved_by = NULLIF(v.resolved_by, ''), updated_at = v.updated_at,
                    awaiting_reply_since = NULLIF(v.awaiting_reply_since, -1),
                    moved_to_staff_at = NULLIF(v.moved_to_staff_at, -1), claim_expiries = v.claim_expiries,
                    next_response_count = v.next_response_count, next_response_total_ms = v.next_response_total_ms,
                    next_response_max_ms = v.next_response_max_ms, next_response_breaches = v.next_response_breaches,
                    staff_replies = v.staff_replies, volunteer_replies = v.volunteer_replies
                    FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::int8[],
                    $8::int8[], $9::int8[], $10::int8[], $11::text[], $12::int8[], $13::int8[], $14::int8[], $15::int8[],
                    $16::int8[], $17::int8[], $18::int8[], $19::int8[], $20::int8[], $21::int8[])
                    AS v(id, priority, priority_rank, tier, state, holder_id, lease_expires_at, peer_deadline_at,
                    first_response_at, resolved_at, resolved_by, updated_at, awaiting_reply_since, moved_to_staff_at,
                    claim_expiries, next_response_count, next_response_total_ms, next_response_max_ms,
                    next_response_breaches, staff_replies, volunteer_replies)
                    WHERE q.id = v.id
                    """,
                binds: try arrays(
                    questions.map(\.id), questions.map(\.priority.rawValue), questions.map { Int64($0.priority.rank) },
                    questions.map(\.tier.rawValue), questions.map(\.state.rawValue), questions.map { $0.holderId ?? "" },
                    questions.map { ms($0.leaseExpiresAt) }, questions.map { ms($0.peerDeadlineAt) },
                    questions.map { ms($0.firstResponseAt) }, questions.map { ms($0.resolvedAt) },
                    questions.map { $0.resolvedBy ?? "" }, questions.map(\.updatedAt.millisecondsSince1970),
                    tallies.map { ms($0.awaitingReplySince) }, tallies.map { ms($0.movedToStaffAt) },
                    tallies.map { Int64($0.claimExpiries) }, tallies.map { Int64($0.nextResponseCount) },
                    tallies.map(\.nextResponseTotalMs), tallies.map(\.nextResponseMaxMs),
                    tallies.map { Int64($0.nextResponseBreaches) }, tallies.map { Int64($0.staffReplies) },
                    tallies.map { Int64($0.volunteerReplies) }
                )
            ),
            logger: logger
        )
    }

    /// One round: each effect about a different question. Effects of one shape share a statement.
    private func applyRound(
        _ connection: PostgresConnection, _ round: BatchRound, subscribers: inout [OutboundSubscriber]?,
        feed: inout [(id: String, at: Int64)]
    ) async throws {
        for (question, effect) in round.singles {
            var single = QuestionChange(inserting: QuestionRecord(question: question))
            single.before = single.record
            single.effects = [effect]
            _ = try await apply(connection, single)
        }
        for (reason, at, ids) in round.endedClaims {
            try await connection.query(
                """
                UPDATE claims SET ended_at = \(at.millisecondsSince1970), end_reason = \(reason.rawValue)
                WHERE ended_at IS NULL AND question_id = ANY(\(ids))
                """,
                logger: logger
            )
        }
        for (targets, status, at, ids) in round.endedTimers {
            try await connection.query(
                """
                UPDATE sla_timers SET status = CASE WHEN status = 'breached' THEN 'breached' ELSE \(status.rawValue) END,
                next_check_at = NULL, ended_at = \(at.millisecondsSince1970)
                WHERE ended_at IS NULL AND target = ANY(\(targets.map(\.rawValue))) AND question_id = ANY(\(ids))
                """,
                logger: logger
            )
        }
        let marked = round.markedTimers
        if !marked.isEmpty {
            try await connection.query(
                """
                UPDATE sla_timers t SET status = v.status, next_check_at = NULLIF(v.next_check_at, -1)
                FROM UNNEST(\(marked.map(\.0))::text[], \(marked.map(\.1.rawValue))::text[],
                \(marked.map(\.2.rawValue))::text[], \(marked.map { ms($0.3) })::int8[])
                AS v(question_id, target, status, next_check_at)
                WHERE t.question_id = v.question_id AND t.target = v.target
                """,
                logger: logger
            )
        }
        for (onlyIfEnded, timers) in round.startedTimers {
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO sla_timers (question_id, target, started_at, warn_at, due_at, next_check_at, status)
                        SELECT v.question_id, v.target, v.started_at, NULLIF(v.warn_at, -1), v.due_at, v.next_check_at,
                        'running'
                        FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::int8[], $5::int8[], $6::int8[])
                        AS v(question_id, target, started_at, warn_at, due_at, next_check_at)
                        ON CONFLICT (question_id, target) DO UPDATE SET
                        started_at = EXCLUDED.started_at, warn_at = EXCLUDED.warn_at, due_at = EXCLUDED.due_at,
                        next_check_at = EXCLUDED.next_check_at, status = 'running', ended_at = NULL
                        \(onlyIfEnded ? "WHERE sla_timers.ended_at IS NOT NULL" : "")
                        """,
                    binds: try arrays(
                        timers.map(\.0), timers.map(\.1.target.rawValue), timers.map(\.1.startedAt.millisecondsSince1970),
                        timers.map { ms($0.1.warnAt) }, timers.map(\.1.dueAt.millisecondsSince1970),
                        timers.map(\.1.firstCheck.millisecondsSince1970)
                    )
                ),
                logger: logger
            )
        }
        try await recordAll(connection, round.events.map { ($0, nil) }, subscribers: &subscribers)
        try await raiseAll(connection, round.escalations, subscribers: &subscribers, feed: &feed)
    }

    /// Timeline events in one statement, then their outbox messages.
    private func recordAll(
        _ connection: PostgresConnection, _ facts: [(TimelineFact, Escalation?)],
        subscribers: inout [OutboundSubscriber]?
    ) async throws {
        guard !facts.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try facts.map { String(decoding: try encoder.encode($0.0.data), as: UTF8.self) }
        try await connection.query(
            """
            INSERT INTO question_events (question_id, type, actor_id, at, data)
            SELECT v.question_id, v.type, NULLIF(v.actor_id, ''), v.at, v.data
            FROM UNNEST(\(facts.map(\.0.question.id))::text[], \(facts.map(\.0.type.rawValue))::text[],
            \(facts.map { $0.0.actorId ?? "" })::text[], \(facts.map(\.0.at.millisecondsSince1970))::int8[],
            \(data)::text[]) WITH ORDINALITY AS v(question_id, type, actor_id, at, data, n)
            ORDER BY v.n
            """,
            logger: logger
        )
        if subscribers == nil { subscribers = try await outboundSubscribers(connection) }
        guard let listening = subscribers, !listening.isEmpty else { return }
        for (fact, escalation) in facts {
            guard let outbound = OutboundEventType(fact.type) else { continue }
            try await publish(
                connection, outbound, questionId: fact.question.id, actor: fact.actorId, at: fact.at,
                details: fact.data.merging(fact.outbound) { _, added in added }, escalation: escalation,
                question: fact.question, subscribers: listening
            )
        }
    }

    /// Escalations in one statement; those that were new get their change-feed rows and timeline events.
    private func raiseAll(
        _ connection: PostgresConnection, _ drafts: [(Question, EscalationDraft)],
        subscribers: inout [OutboundSubscriber]?, feed: inout [(id: String, at: Int64)]
    ) async throws {
        guard !drafts.isEmpty else { return }
        let inserted = Set(
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO escalations (id, question_id, reason, level, state, note, created_by, created_at,
                        updated_at)
                        SELECT v.id, v.question_id, v.reason, v.level, 'open', NULLIF(v.note, ''), NULLIF(v.created_by, ''),
                        v.at, v.at
                        FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::int8[])
                        AS v(id, question_id, reason, level, note, created_by, at)
                        ON CONFLICT (question_id, reason, level) DO NOTHING RETURNING id
                        """,
                    binds: try arrays(
                        drafts.map(\.1.id), drafts.map(\.0.id), drafts.map(\.1.reason.rawValue),
                        drafts.map { Int64($0.1.level) }, drafts.map { $0.1.note ?? "" }, drafts.map { $0.1.actorId ?? "" },
                        drafts.map(\.1.at.millisecondsSince1970)
                    )
                ),
                logger: logger
            ).all { try $0.decode(String.self) }
        )
        var raised: [(TimelineFact, Escalation?)] = []
        for (question, draft) in drafts {
            guard inserted.contains(draft.id) else {
                if let error = draft.ifExists { throw error }
                continue
            }
            raised.append((draft.event, draft.escalation(about: question)))
        }
        guard !raised.isEmpty else { return }
        for (fact, escalation) in raised {
            if let escalation { feed.append((escalation.id, fact.at.millisecondsSince1970)) }
        }
        try await recordAll(connection, raised, subscribers: &subscribers)
    }
}

/// Milliseconds since 1970, or -1 for none (see the top of this file).
private func ms(_ date: Date?) -> Int64 { date?.millisecondsSince1970 ?? -1 }

/// Bindings for a statement of array parameters, in order.
private func arrays(_ values: any PostgresEncodable & Sendable...) throws -> PostgresBindings {
    var bindings = PostgresBindings(capacity: values.count)
    for value in values { try bindings.append(value) }
    return bindings
}
