import Foundation

/// Where question changes are applied: the part of a store that loads a question under its lock, hands the snapshot to
/// a decision of `QuestionCommands`, and writes the change in the same transaction. The stores keep only what must
/// hold across transactions and instances in SQL (one live claim per question, one escalation per question, reason
/// and level, background work taken with `SKIP LOCKED`); the commands below are written once, here.
public protocol QuestionChangeStore: Sendable {
    /// Stores a new question decided by `decide` (`QuestionCommands.intake`) over the similar questions the store
    /// loads for `surge` in the same transaction (see `SurgeSnapshot`; nothing is loaded without `surge`); a
    /// repeated webhook id is a `duplicate_webhook` conflict, a conversation taken meanwhile `conversation_exists`.
    ///
    /// The loading follows `SurgeRules`: the horizon's signatures sharing a band with the new one; then, by
    /// `SurgeRules.plan`, the open incident to join; or, for similar questions' groups, the open incident one of
    /// the groups' questions is linked to (read again here: it may have opened since the matches were read), else
    /// the groups' count in the window; when that is `largeEnough`, the window's members and the past weeks' matches
    /// (`baselineWindows`, `baselineBands`); when `SurgeRules.verdict` says surge, the horizon's members. On
    /// PostgreSQL the band keys, then the groups, are locked first, so similar questions arriving at two instances
    /// are grouped one after the other and open one incident, which any of them still in flight joins.
    func apply(
        intake surge: SurgeNeeds?, _ decide: @escaping @Sendable (SurgeSnapshot) -> QuestionChange
    ) async throws -> AppliedChange
    /// Loads the question (an unknown one is `not_found`) with what `needs` names, under its lock, and applies what
    /// `decide` makes of it, in one transaction; a refusal thrown by `decide` writes nothing.
    func apply(
        questionId: String, needs: SnapshotNeeds, at now: Date,
        _ decide: @escaping @Sendable (QuestionSnapshot) throws -> QuestionChange
    ) async throws -> AppliedChange
    /// The snapshot as a reader sees it now, without locking anything: for refusing what is sure to be refused
    /// without queueing for the question's lock (see `claim`); nil where that costs more than it saves.
    func peek(questionId: String, needs: SnapshotNeeds, at now: Date) async throws -> QuestionSnapshot?
    /// Loads the question rated through the link whose token has this hash (`rating_not_found` when none) and applies
    /// what `decide` makes of the link and the question, in one transaction.
    func apply(
        ratingTokenHash: String, needs: SnapshotNeeds, at now: Date,
        _ decide: @escaping @Sendable (StoredRating, QuestionSnapshot) throws -> QuestionChange
    ) async throws -> AppliedChange
    /// Takes up to `limit` clocks due at `now` that no other instance holds, and applies what `decide` makes of each;
    /// returns the totals of the applied changes.
    func applyDueClocks(
        at now: Date, limit: Int, _ decide: @escaping @Sendable (DueClock, QuestionSnapshot) -> QuestionChange
    ) async throws -> SweepOutcome
    /// Takes up to `limit` questions whose claim's lease ran out at `now` that no other instance holds, and applies
    /// what `decide` makes of each; returns how many it changed.
    func applyExpiredLeases(
        at now: Date, limit: Int, _ decide: @escaping @Sendable (QuestionSnapshot) -> QuestionChange
    ) async throws -> Int
}

// The question commands, once for both stores.
extension QuestionChangeStore {
    /// Stores a new question with its first message, events, clocks and (when critical) its escalation. Under an
    /// `idempotency` reservation the question is marked on it in the same transaction.
    public func insertQuestion(
        _ draft: QuestionDraft, messageId: String, idempotency: IdempotencyReservation?, surge: SurgeNeeds? = nil,
        context: ChangeContext
    ) async throws -> Question {
        try await apply(intake: surge) { snapshot in
            QuestionCommands.intake(
                draft, messageId: messageId, idempotency: idempotency, surge: surge, snapshot: snapshot, context: context
            )
        }.question
    }

    /// Gives the question to the helper under a lease, if the rules allow; of concurrent claims one wins.
    public func claim(
        questionId: String, by helper: Helper, claimId: String, lease: TimeInterval, context: ChangeContext
    ) async throws -> Question {
        let needs = SnapshotNeeds(
            claimsOf: helper.id, holderHandle: true,
            standing: helper.role == .volunteer
                ? ProgrammeRules.needs(
                    .helper(helper.id), scope: ProgrammeRules.accessScope(context.planner.policy.programme),
                    onlyIfClaimable: true, context: context
                ) : nil
        )
        // Of many helpers racing for one question all but one lose. A question that a reader already sees held by
        // someone else (or resolved, or out of the helper's reach) is refused from that read, so the losers never
        // queue for the writer or the row lock; the refusal is the one the locked decision would have made a
        // moment earlier. Anything else is decided again under the lock.
        do {
            if let seen = try await peek(questionId: questionId, needs: needs, at: context.now) {
                _ = try QuestionCommands.claim(seen, by: helper, claimId: claimId, lease: lease, context: context)
            }
        } catch let refusal as PatenError where QuestionCommands.settledClaimRefusals.contains(refusal.code) {
            throw refusal
        } catch {
            // Anything else (at capacity, a read that failed) is decided under the lock below.
        }
        return try await apply(questionId: questionId, needs: needs, at: context.now) { snapshot in
            try QuestionCommands.claim(snapshot, by: helper, claimId: claimId, lease: lease, context: context)
        }.question
    }

    /// Ends the current claim and puts the question back in the pool.
    public func release(questionId: String, by actor: Helper, context: ChangeContext) async throws -> Question {
        try await apply(questionId: questionId, needs: SnapshotNeeds(), at: context.now) { snapshot in
            try QuestionCommands.release(snapshot, by: actor, context: context)
        }.question
    }

    /// Records a helper reply, renewing the replier's lease and meeting the response clocks.
    public func reply(
        questionId: String, by helper: Helper, messageId: String, body: String, lease: TimeInterval,
        context: ChangeContext
    ) async throws -> (question: Question, message: Message) {
        let needs = SnapshotNeeds(
            standing: helper.role == .volunteer ? ProgrammeRules.needs(.helper(helper.id), context: context) : nil
        )
        let applied = try await apply(questionId: questionId, needs: needs, at: context.now) { snapshot in
            try QuestionCommands.reply(
                snapshot, by: helper, messageId: messageId, body: body, lease: lease, context: context
            )
        }
        return (applied.question, try Self.stored(messageId, in: applied))
    }

    /// Records a customer follow-up (see `QuestionCommands.customerMessage`). An inbound webhook's receipt is stored
    /// with it; a repeated webhook id is a `duplicate_webhook` conflict. Under an `idempotency` reservation the
    /// message is marked on it in the same transaction.
    public func addCustomerMessage(
        questionId: String, by actor: Helper, messageId: String, body: String, origin: InboundOrigin?,
        routing: FollowUpRouting, idempotency: IdempotencyReservation?, context: ChangeContext
    ) async throws -> (question: Question, message: Message) {
        let needs = SnapshotNeeds(recentFollowUps: true, standing: ProgrammeRules.needs(.credited, context: context))
        let applied = try await apply(questionId: questionId, needs: needs, at: context.now) { snapshot in
            try QuestionCommands.customerMessage(
                snapshot, by: actor, messageId: messageId, body: body, origin: origin, routing: routing,
                idempotency: idempotency, context: context
            )
        }
        return (applied.question, try Self.stored(messageId, in: applied))
    }

    /// Marks the question resolved, ends any claim and clock, credits the answer (`answerId`, else the latest helper
    /// reply) and issues the rating link unless already rated; `note` (why it was resolved) goes into the resolved
    /// event.
    public func resolve(
        questionId: String, by actor: Helper, note: String?, answerId: String? = nil, rating: RatingGrant?,
        context: ChangeContext
    ) async throws -> Question {
        let needs = SnapshotNeeds(
            resolution: true, answerId: answerId, standing: ProgrammeRules.needs(.answerer, context: context)
        )
        return try await apply(questionId: questionId, needs: needs, at: context.now) { snapshot in
            try QuestionCommands.resolve(
                snapshot, by: actor, note: note, answerId: answerId, rating: rating, context: context
            )
        }.question
    }

    /// Puts a resolved question back in the pool, taking back its credited answer's points.
    public func reopen(questionId: String, by actor: Helper, context: ChangeContext) async throws -> Question {
        let needs = SnapshotNeeds(standing: ProgrammeRules.needs(.credited, context: context))
        return try await apply(questionId: questionId, needs: needs, at: context.now) { snapshot in
            try QuestionCommands.reopen(snapshot, by: actor, context: context)
        }.question
    }

    /// Puts a question a paused volunteer holds back in the pool (nothing when they no longer hold it).
    public func returnToPool(questionId: String, from helperId: String, context: ChangeContext) async throws {
        _ = try await apply(questionId: questionId, needs: SnapshotNeeds(), at: context.now) { snapshot in
            QuestionCommands.returnToPool(snapshot, from: helperId, context: context)
        }
    }

    /// Hands the question to staff: a volunteer's handoff or a staff member's manual escalation.
    public func escalate(
        questionId: String, by actor: Helper, level: Int, note: String, context: ChangeContext
    ) async throws -> Escalation {
        let applied = try await apply(questionId: questionId, needs: SnapshotNeeds(), at: context.now) { snapshot in
            try QuestionCommands.escalate(snapshot, by: actor, level: level, note: note, context: context)
        }
        guard let escalation = applied.escalations.last else {
            // The draft carries `already_escalated`: a store that applied the change created it.
            throw PatenError(.unavailable, code: "escalation_missing", message: "The escalation was not stored.")
        }
        return escalation
    }

    /// Records the score for the question whose unexpired, unused link has the token hash; a low score escalates.
    /// Returns the rating and the volunteer it paused, if any (their held questions are the caller's to return).
    public func rate(
        tokenHash: String, score: Int, comment: String?, solved: Bool? = nil, context: ChangeContext
    ) async throws -> (rating: Rating, paused: String?) {
        let rated = RatedBox()
        let needs = SnapshotNeeds(standing: ProgrammeRules.needs(.rated, context: context))
        let applied = try await apply(ratingTokenHash: tokenHash, needs: needs, at: context.now) { stored, snapshot in
            let change = try QuestionCommands.rate(
                snapshot, rating: stored, score: score, comment: comment, solved: solved, context: context
            )
            rated.set(
                Rating(
                    questionId: stored.questionId, score: score, comment: comment, helperId: stored.helperId,
                    helperTier: stored.helperTier, ratedAt: context.now, solved: solved
                )
            )
            return change
        }
        guard let rating = rated.value else {
            throw PatenError(.notFound, code: "rating_not_found", message: "This rating link is not valid.")
        }
        return (rating, applied.pausedHelper)
    }

    /// Ends up to `limit` claims whose lease ran out, returning how many it ended.
    public func expireLeases(context: ChangeContext, limit: Int) async throws -> Int {
        try await applyExpiredLeases(at: context.now, limit: limit) { snapshot in
            QuestionCommands.expireLease(snapshot, context: context)
        }
    }

    /// Acts on up to `limit` clocks that are due: moves questions to staff, raises warnings and breaches.
    public func sweep(context: ChangeContext, limit: Int) async throws -> SweepOutcome {
        try await applyDueClocks(at: context.now, limit: limit) { clock, snapshot in
            QuestionCommands.sweep(snapshot, clock: clock, context: context)
        }
    }
}

extension QuestionChangeStore {
    /// The message a reply or follow-up stored, as the change built it.
    static func stored(_ messageId: String, in applied: AppliedChange) throws -> Message {
        guard let message = applied.messages.first(where: { $0.id == messageId }) else {
            throw PatenError(.unavailable, code: "message_missing", message: "The message was not stored.")
        }
        return message
    }
}

/// Carries the rating a decision built out of the store's transaction (the decision may run again when a
/// PostgreSQL transaction is retried: the last run is the one applied).
private final class RatedBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Rating?

    func set(_ rating: Rating) { lock.withLock { stored = rating } }
    var value: Rating? { lock.withLock { stored } }
}
