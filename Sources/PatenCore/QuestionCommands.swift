import Foundation

/// Every question command as a pure decision: from a snapshot (the question's row and the facts the command needs),
/// the actor, the policy's clocks and the time, the whole change, or the refusal to throw. The stores load the
/// snapshot under the question's lock and apply the change; no rule lives in them.
public enum QuestionCommands {
    /// Stores a new question: its first message, created and routed events, its clocks (the peer window on the
    /// volunteer tier, the staff clocks on the staff tier) and, when critical, a `critical_intake` escalation.
    public static func intake(
        _ draft: QuestionDraft, messageId: String, idempotency: IdempotencyReservation?, context: ChangeContext
    ) -> QuestionChange {
        let question = draft.question
        var change = QuestionChange(inserting: QuestionRecord(question: question))
        // Everything intake writes happens at the question's creation time, its escalation included.
        let now = question.createdAt
        var context = context
        context.now = now
        if let idempotency {
            change.effects.append(.idempotentWrite(idempotency, IdempotentWrite(questionId: question.id)))
        }
        change.effects.append(
            .message(
                Message(
                    id: messageId, questionId: question.id, authorKind: .customer, helperId: nil, body: draft.body,
                    createdAt: now
                )
            )
        )
        var created = ["channel": question.channel, "message_id": messageId]
        if let origin = draft.origin {
            change.effects.append(.receipt(origin, at: now))
            change.effects.append(.conversation(origin, at: now))
            created.merge(origin.eventData) { current, _ in current }
        }
        change.addEvent(.created, actor: question.createdBy, at: now, created)
        var routed = [
            "tier": question.tier.rawValue, "reason": draft.routingReason, "topic": question.topic,
            "priority": question.priority.rawValue, "language": question.language,
        ]
        routed["peer_deadline_at"] = question.peerDeadlineAt.map { String($0.millisecondsSince1970) }
        change.addEvent(.routed, actor: nil, at: now, routed)
        switch question.tier {
        case .volunteer:
            change.start(context.planner.peerWindow(priority: question.priority, from: now))
        case .staff:
            for timer in context.planner.staffArrival(priority: question.priority, at: now, alreadyAnswered: false) {
                change.start(timer)
            }
        }
        if question.priority == .critical {
            change.raise(.criticalIntake, note: "Critical priority at intake.", actor: nil, context: context)
        }
        return change
    }

    /// Claim refusals that a read snapshot settles: nothing but the holder's own action (a release, a lease that
    /// runs out, a reopening by staff) undoes them, so refusing from a read taken a moment ago is refusing as of then.
    public static let settledClaimRefusals: Set<String> = [
        "already_claimed", "question_resolved", "staff_tier", "role_cannot_claim", "question_not_found",
    ]

    /// Ends a claim whose lease ran out, if the question has one: the question returns to the pool, and a second
    /// lease that ran out with no reply from its holder escalates (`claim_expired`). Every command that may meet a
    /// claimed question starts with this (reopen and rating act on resolved questions, which hold no claim), so a
    /// question is never acted on as held by someone whose time is up.
    public static func expireLease(_ snapshot: QuestionSnapshot, context: ChangeContext) -> QuestionChange {
        var change = QuestionChange(from: snapshot)
        change.expireLease(snapshot, context: context)
        return change
    }

    /// Gives the question to the helper under a lease; the holder claiming again renews it.
    public static func claim(
        _ snapshot: QuestionSnapshot, by helper: Helper, claimId: String, lease: TimeInterval, context: ChangeContext
    ) throws -> QuestionChange {
        let now = context.now
        var change = expireLease(snapshot, context: context)
        try QuestionRules.checkClaim(
            change.question, by: helper, activeClaims: snapshot.activeClaims, holderHandle: snapshot.holderHandle,
            at: now
        )
        let expires = now.addingTimeInterval(lease)
        if let standing = snapshot.standing {
            // A paused volunteer renews nothing either; the rest (quiet hours, budget, topic) limits new claims.
            try ProgrammeRules.checkNotPaused(standing)
            if change.question.state != .claimed {
                try ProgrammeRules.checkClaim(
                    standing, topic: change.question.topic, questionId: change.question.id, at: now,
                    policy: context.planner.policy
                )
            }
        }
        if change.question.state == .claimed {
            // The holder claiming again renews the lease; no new claim, no new event.
            change.effects.append(.renewClaim(expiresAt: expires))
            change.question.leaseExpiresAt = expires
            change.question.updatedAt = now
        } else {
            change.effects.append(.startClaim(id: claimId, helperId: helper.id, at: now, expiresAt: expires))
            change.question.state = .claimed
            change.question.holderId = helper.id
            change.question.leaseExpiresAt = expires
            change.question.updatedAt = now
            change.addEvent(
                .claimed, actor: helper.id, at: now,
                ["claim_id": claimId, "lease_expires_at": String(expires.millisecondsSince1970)]
            )
        }
        return change
    }

    /// Ends the current claim and puts the question back in the pool.
    public static func release(
        _ snapshot: QuestionSnapshot, by actor: Helper, context: ChangeContext
    ) throws
        -> QuestionChange
    {
        let now = context.now
        var change = expireLease(snapshot, context: context)
        try QuestionRules.checkRelease(change.question, by: actor, at: now)
        let holder = change.question.holderId
        change.effects.append(.endClaim(.released, at: now))
        change.question.state = .open
        change.question.holderId = nil
        change.question.leaseExpiresAt = nil
        change.question.updatedAt = now
        change.addEvent(.released, actor: actor.id, at: now, ["holder_id": holder ?? ""])
        return change
    }

    /// Records a helper's reply: the first reply meets the first-response clock, a later one answers the customer's
    /// latest follow-up (the next-response clock); the replier's lease renews.
    public static func reply(
        _ snapshot: QuestionSnapshot, by helper: Helper, messageId: String, body: String, lease: TimeInterval,
        context: ChangeContext
    ) throws -> QuestionChange {
        let now = context.now
        var change = expireLease(snapshot, context: context)
        try QuestionRules.checkReply(change.question, by: helper, at: now)
        try QuestionRules.checkNotRedacted(change.question)
        if let standing = snapshot.standing, standing.helperId == helper.id { try ProgrammeRules.checkNotPaused(standing) }
        change.effects.append(
            .message(
                Message(
                    id: messageId, questionId: change.question.id, authorKind: .helper, helperId: helper.id, body: body,
                    createdAt: now
                )
            )
        )
        let isFirst = change.question.firstResponseAt == nil
        let waiting = change.record.tallies.awaitingReplySince
        // The first reply answers the question; a later one answers the customer's latest follow-up, if any.
        let responseMs: Int64? =
            isFirst
            ? now.millisecondsSince1970 - change.question.createdAt.millisecondsSince1970
            : waiting.map { now.millisecondsSince1970 - $0.millisecondsSince1970 }
        let countsAsNext = !isFirst && waiting != nil
        if countsAsNext, let next = responseMs {
            change.record.tallies.nextResponseCount += 1
            change.record.tallies.nextResponseTotalMs += next
            change.record.tallies.nextResponseMaxMs = max(change.record.tallies.nextResponseMaxMs, next)
        }
        if helper.role == .volunteer {
            change.record.tallies.volunteerReplies += 1
        } else {
            change.record.tallies.staffReplies += 1
        }
        change.question.firstResponseAt = change.question.firstResponseAt ?? now
        change.question.updatedAt = now
        change.record.tallies.awaitingReplySince = nil
        change.effects.append(.endTimers([.peerWindow, .firstResponse, .nextResponse], as: .met, at: now))
        if change.question.state == .claimed && change.question.holderId == helper.id {
            let expires = now.addingTimeInterval(lease)
            change.effects.append(.renewClaim(expiresAt: expires))
            change.question.leaseExpiresAt = expires
        }
        var data = [
            "message_id": messageId, "first_response": isFirst ? "true" : "false", "tier": change.question.tier.rawValue,
            "helper_role": helper.role.rawValue,
        ]
        if isFirst || countsAsNext {
            data["response_ms"] = responseMs.map { String($0) }
            data["response_kind"] = isFirst ? "first" : "next"
        }
        change.addEvent(.replied, actor: helper.id, at: now, data)
        // A volunteer's first reply within the peer window earns points.
        if isFirst, change.question.tier == .volunteer, let deadline = change.question.peerDeadlineAt, now <= deadline,
            var standing = snapshot.standing, standing.helperId == helper.id
        {
            change.earn(.fastFirstReply, &standing, context: context)
            change.settle(&standing, context: context)
        }
        return change
    }

    /// Puts a question held by a paused volunteer back in the pool (the pause's follow-up, one question at a time).
    public static func returnToPool(
        _ snapshot: QuestionSnapshot, from helperId: String, context: ChangeContext
    )
        -> QuestionChange
    {
        let now = context.now
        var change = expireLease(snapshot, context: context)
        guard change.question.state == .claimed, change.question.holderId == helperId else { return change }
        change.effects.append(.endClaim(.released, at: now))
        change.question.state = .open
        change.question.holderId = nil
        change.question.leaseExpiresAt = nil
        change.question.updatedAt = now
        change.addEvent(.released, actor: nil, at: now, ["holder_id": helperId, "reason": "helper_paused"])
        return change
    }

    /// Records a customer's follow-up: a resolved question reopens; the customer now waits for a reply, so the
    /// next-response clock starts (staff tier) or an answered volunteer-tier question gets a new peer window; what the
    /// text names (`routing`) may make the question critical and move it to staff. At most
    /// `QuestionRules.followUpsPerMinute` follow-ups a minute.
    public static func customerMessage(
        _ snapshot: QuestionSnapshot, by actor: Helper, messageId: String, body: String, origin: InboundOrigin?,
        routing: FollowUpRouting, idempotency: IdempotencyReservation?, context: ChangeContext
    ) throws -> QuestionChange {
        let now = context.now
        var change = expireLease(snapshot, context: context)
        try QuestionRules.checkCustomerMessage(change.question, by: actor)
        try QuestionRules.checkFollowUpRate(change.question, recent: snapshot.recentFollowUps, at: now)
        let id = change.question.id
        if let origin { change.effects.append(.receipt(origin, at: now)) }
        change.effects.append(
            .message(Message(id: messageId, questionId: id, authorKind: .customer, helperId: nil, body: body, createdAt: now))
        )
        if let idempotency {
            change.effects.append(.idempotentWrite(idempotency, IdempotentWrite(questionId: id, messageId: messageId)))
        }
        if change.question.state == .resolved {
            change.reopen(snapshot, context: context)
            change.addEvent(.reopened, actor: actor.id, at: now, ["reason": "customer_message"])
        }
        let waitingBefore = change.record.tallies.awaitingReplySince
        change.question.updatedAt = now
        change.record.tallies.awaitingReplySince = waitingBefore ?? now
        let question = change.question
        if question.tier == .staff, question.firstResponseAt != nil,
            let timer = context.planner.staffTimer(.nextResponse, priority: question.priority, from: now)
        {
            change.start(timer, onlyIfEnded: true)
        }
        // On the volunteer tier an answered question's new follow-up gets a peer window of its own: unanswered, it
        // moves to staff like a new question would.
        if question.tier == .volunteer, question.firstResponseAt != nil, waitingBefore == nil {
            let window = context.planner.peerWindow(priority: question.priority, from: now)
            change.start(window)
            change.question.peerDeadlineAt = window.dueAt
        }
        var data = ["message_id": messageId]
        if let origin { data.merge(origin.eventData) { current, _ in current } }
        change.addEvent(.customerReplied, actor: actor.id, at: now, data)
        change.route(routing, context: context)
        return change
    }

    /// Marks the question resolved: its claim and clocks end, and the customer gets a rating link unless they rated
    /// it already. The credit goes to the helper whose reply answered it: the reply `answerId` names (which must be a
    /// helper reply on this question), else the latest helper reply; nobody when no helper replied. The credited
    /// volunteer earns the accepted answer's points, and their first accepted answers go to staff for review.
    public static func resolve(
        _ snapshot: QuestionSnapshot, by actor: Helper, note: String?, answerId: String? = nil, rating: RatingGrant?,
        context: ChangeContext
    ) throws -> QuestionChange {
        let now = context.now
        var change = expireLease(snapshot, context: context)
        try QuestionRules.checkResolve(
            change.question, by: actor, note: note, awaitingReply: change.record.tallies.awaitingReplySince != nil,
            at: now
        )
        if let standing = snapshot.standing, standing.helperId == actor.id { try ProgrammeRules.checkNotPaused(standing) }
        let credited: Replier?
        if let answerId {
            guard let answer = snapshot.answer else {
                throw PatenError(
                    .unprocessable, code: "invalid_answer",
                    message:
                        "\(answerId) is not a helper reply on question \(change.question.id); name one of its replies, or leave answer_id out to credit the latest."
                )
            }
            credited = answer
        } else {
            credited = snapshot.lastReplier
        }
        change.record.tallies.creditedHelperId = credited?.id
        change.record.tallies.answerId = credited?.messageId
        change.effects.append(.endClaim(.resolved, at: now))
        change.question.state = .resolved
        change.question.holderId = nil
        change.question.leaseExpiresAt = nil
        change.question.resolvedAt = now
        change.question.resolvedBy = actor.id
        change.question.updatedAt = now
        change.record.tallies.awaitingReplySince = nil
        change.effects.append(.endTimers([.resolution], as: .met, at: now))
        change.effects.append(.endTimers([.peerWindow, .firstResponse, .nextResponse], as: .stopped, at: now))
        // A redacted question keeps no new words about its customer.
        let note = Redaction.isRedacted(change.question) ? note.map { _ in Tombstone.text } : note
        var data = ["tier": change.question.tier.rawValue]
        data["note"] = note
        data["helper_id"] = credited?.id
        data["answer_id"] = credited?.messageId
        // The link is the customer's: the timeline never holds it, the outbox only a placeholder for it.
        var outbound: [String: String] = [:]
        if let rating, !snapshot.rated {
            change.effects.append(
                .issueRating(
                    RatingIssue(
                        grant: rating, helperId: credited?.id,
                        helperTier: credited.map { $0.role == .volunteer ? Tier.volunteer : Tier.staff }
                    )
                )
            )
            outbound["rating_url"] = RatingLinks.placeholder(questionId: change.question.id, issuedAt: rating.issuedAt)
        }
        change.addEvent(.resolved, actor: actor.id, at: now, data, outbound: outbound)
        if credited != nil {
            // A solved question's signature is kept longer, to be offered as a similar answer.
            change.effects.append(.keepSignature(until: now.addingTimeInterval(context.planner.policy.surge.keepSolved)))
        }
        if var standing = snapshot.standing, let credited, standing.helperId == credited.id, standing.takesPart {
            let programme = context.planner.policy.programme
            if standing.accepted < programme.probationAnswers {
                change.raise(
                    .probationReview,
                    note: "Accepted answer \(standing.accepted + 1) of a new volunteer's first \(programme.probationAnswers).",
                    actor: nil, context: context
                )
            }
            standing.accepted += 1
            standing.topics[change.question.topic, default: TopicRecord()].solved += 1
            change.earn(.acceptedAnswer, &standing, context: context)
            change.settle(&standing, context: context)
        }
        return change
    }

    /// Puts a resolved question back in the pool with its clocks started again.
    public static func reopen(
        _ snapshot: QuestionSnapshot, by actor: Helper, context: ChangeContext
    ) throws
        -> QuestionChange
    {
        var change = QuestionChange(from: snapshot)
        try QuestionRules.checkReopen(change.question, by: actor)
        change.reopen(snapshot, context: context)
        change.addEvent(.reopened, actor: actor.id, at: context.now, ["reason": "requested"])
        return change
    }

    /// Hands the question to staff: a volunteer's handoff, or staff escalating by hand. One escalation per reason
    /// and level: a second is `already_escalated`.
    public static func escalate(
        _ snapshot: QuestionSnapshot, by actor: Helper, level: Int, note: String, context: ChangeContext
    ) throws -> QuestionChange {
        var change = expireLease(snapshot, context: context)
        let reason = try QuestionRules.checkEscalate(change.question, by: actor, at: context.now)
        try QuestionRules.checkNotRedacted(change.question)
        if change.question.tier == .volunteer {
            change.moveToStaff(endingClaimAs: reason == .handoff ? .handoff : .moved, reason: nil, context: context)
        }
        change.raise(
            reason, level: level, note: note, actor: actor.id, context: context,
            ifExists: PatenError.conflict(
                "already_escalated",
                "Question \(change.question.id) already has a \(reason.rawValue) escalation at level \(level)."
            )
        )
        return change
    }

    /// Records the customer's score (and whether the answer solved the problem) on a valid, unused link; a low score
    /// escalates (`low_rating`). The credited volunteer earns points for a good score and a confirmed solution; a
    /// low score counts towards their pause, which puts their held questions back in the pool and tells staff
    /// (`volunteer_paused`).
    public static func rate(
        _ snapshot: QuestionSnapshot, rating: StoredRating, score: Int, comment: String?, solved: Bool? = nil,
        context: ChangeContext
    ) throws -> QuestionChange {
        let now = context.now
        try RatingRules.checkLink(used: rating.score != nil, expiresAt: rating.expiresAt, at: now)
        var change = QuestionChange(from: snapshot)
        // The score of a redacted question counts; a comment would be new words under the tombstones.
        let comment = Redaction.isRedacted(snapshot.question) ? nil : comment
        change.effects.append(.recordScore(score: score, comment: comment, solved: solved, at: now))
        var data = [
            "score": String(score), "helper_id": rating.helperId ?? "", "helper_tier": rating.helperTier?.rawValue ?? "",
        ]
        data["solved"] = solved.map { $0 ? "true" : "false" }
        change.addEvent(.rated, actor: nil, at: now, data)
        if RatingRules.escalates(score) {
            change.raise(.lowRating, note: "The customer rated the answer \(score) of 5.", actor: nil, context: context)
        }
        guard var standing = snapshot.standing, standing.helperId == rating.helperId, standing.takesPart else {
            return change
        }
        let programme = context.planner.policy.programme
        standing.topics[change.question.topic, default: TopicRecord()].ratingSum += score
        standing.topics[change.question.topic, default: TopicRecord()].ratingCount += 1
        // Points only while the question stands resolved with this credit: a reopened question's answer was not the
        // answer after all (its link still rates it, and a low score still counts towards a pause).
        let standsCredited =
            change.question.state == .resolved && change.record.tallies.creditedHelperId == standing.helperId
        if score >= 4 && standsCredited { change.earn(.goodRating, &standing, context: context) }
        if solved == true && standsCredited { change.earn(.confirmedSolved, &standing, context: context) }
        if score <= programme.lowRatingScore {
            standing.lowRatings += 1
            if ProgrammeRules.pauses(standing, programme: programme) {
                standing.settings.pausedAt = now
                change.effects.append(.pauseHelper(helperId: standing.helperId, at: now))
                change.addEvent(
                    .helperPaused, actor: nil, at: now,
                    ["helper_id": standing.helperId, "low_ratings": String(standing.lowRatings)]
                )
                change.raise(
                    .volunteerPaused,
                    note:
                        "Paused after \(standing.lowRatings) ratings of \(programme.lowRatingScore) or less within \(Int(programme.pauseWindow / 86400)) days; review and resume.",
                    actor: nil, context: context
                )
            }
        }
        change.settle(&standing, context: context)
        return change
    }

    /// The sweep's verdict on one due clock. An unanswered volunteer-tier question whose peer window ran out moves to
    /// staff and escalates; a staff clock past due is breached (even when the warning was never raised: a late sweep
    /// skips it), one past its warning time warns; a peer window with nothing left to do just stops.
    public static func sweep(_ snapshot: QuestionSnapshot, clock: DueClock, context: ChangeContext) -> QuestionChange {
        let now = context.now
        var change = QuestionChange(from: snapshot)
        change.outcome.examined = 1
        let question = change.question
        let due = String(clock.dueAt.millisecondsSince1970)
        if clock.target == .peerWindow {
            // Unanswered: never answered, or a follow-up that no helper has answered yet.
            let unanswered = question.firstResponseAt == nil || change.record.tallies.awaitingReplySince != nil
            guard question.tier == .volunteer, question.state != .resolved, unanswered else {
                change.effects.append(.endTimers([.peerWindow], as: .stopped, at: now))
                return change
            }
            change.effects.append(.endTimers([.peerWindow], as: .breached, at: now))
            change.moveToStaff(endingClaimAs: .moved, reason: nil, context: context)
            change.raise(
                .peerWindowExpired, note: "No volunteer answered within the peer window.", actor: nil, context: context
            )
            change.outcome.movedToStaff = 1
        } else if clock.dueAt <= now {
            change.effects.append(.markTimer(clock.target, status: .breached, nextCheckAt: nil))
            if clock.target == .nextResponse { change.record.tallies.nextResponseBreaches += 1 }
            change.addEvent(.slaBreached, actor: nil, at: now, ["target": clock.target.rawValue, "due_at": due])
            change.raise(
                .slaBreached, note: "The \(clock.target.rawValue) target was breached.", actor: nil, context: context
            )
            change.outcome.breaches = 1
        } else if clock.status == .running {
            change.effects.append(.markTimer(clock.target, status: .warned, nextCheckAt: clock.dueAt))
            change.addEvent(.slaWarning, actor: nil, at: now, ["target": clock.target.rawValue, "due_at": due])
            change.raise(
                .slaWarning, note: "The \(clock.target.rawValue) target is due at \(clock.dueAt.formatted(.iso8601)).",
                actor: nil, context: context
            )
            change.outcome.warnings = 1
        } else {
            // Warned already and not yet due: look again when it falls due, so the pass moves on.
            change.effects.append(.markTimer(clock.target, status: clock.status, nextCheckAt: clock.dueAt))
        }
        return change
    }
}

// The steps commands share. Each changes the row and appends its writes in the order they happen.
extension QuestionChange {
    /// Appends a timeline event about the question as it stands now.
    mutating func addEvent(
        _ type: QuestionEventType, actor: String?, at time: Date, _ data: [String: String],
        outbound: [String: String] = [:]
    ) {
        effects.append(.event(TimelineFact(type, actor: actor, at: time, data, outbound: outbound, question: question)))
    }

    mutating func start(_ timer: SLATimer, onlyIfEnded: Bool = false) {
        effects.append(.startTimer(timer, onlyIfEnded: onlyIfEnded))
    }

    /// Raises an escalation at the reason's default level unless `level` says otherwise.
    mutating func raise(
        _ reason: EscalationReason, level: Int? = nil, note: String?, actor: String?, context: ChangeContext,
        ifExists: PatenError? = nil
    ) {
        let id = context.ids.make("esc")
        let level = level ?? reason.defaultLevel
        let event = TimelineFact(
            .escalated, actor: actor, at: context.now,
            ["escalation_id": id, "reason": reason.rawValue, "level": String(level)], question: question
        )
        effects.append(
            .escalation(
                EscalationDraft(
                    id: id, reason: reason, level: level, note: note, actorId: actor, at: context.now, ifExists: ifExists,
                    event: event
                )
            )
        )
    }

    mutating func expireLease(_ snapshot: QuestionSnapshot, context: ChangeContext) {
        let now = context.now
        guard question.state == .claimed, let expiry = question.leaseExpiresAt, expiry <= now else { return }
        // Only a lease that ran out with no reply from its holder counts towards the claim_expired escalation.
        let replied = snapshot.expiredHolderReplied ?? false
        let holder = question.holderId
        effects.append(.endClaim(.expired, at: now))
        question.state = .open
        question.holderId = nil
        question.leaseExpiresAt = nil
        question.updatedAt = now
        if !replied { record.tallies.claimExpiries += 1 }
        addEvent(
            .claimExpired, actor: nil, at: now,
            ["holder_id": holder ?? "", "lease_expired_at": String(expiry.millisecondsSince1970)]
        )
        outcome.examined += 1
        if !replied && record.tallies.claimExpiries >= 2 {
            raise(
                .claimExpired, note: "Claimed twice and both leases ran out without a reply.", actor: nil,
                context: context
            )
        }
    }

    /// Reopens a resolved question and starts its clocks again: the peer window (and the deadline shown with it)
    /// for an unanswered volunteer-tier question, the staff first-response (if unanswered) and resolution clocks for
    /// a staff-tier one. The credit ends: the credited helper's accepted-answer and "solved" points are reversed
    /// (new rows; the level follows, within its low-water mark).
    mutating func reopen(_ snapshot: QuestionSnapshot, context: ChangeContext) {
        let now = context.now
        if var standing = snapshot.standing, standing.helperId == record.tallies.creditedHelperId {
            for reason in [PointReason.acceptedAnswer, .confirmedSolved] {
                let amount = ProgrammeRules.reversible(reason, in: standing)
                if amount > 0, let reversal = reason.reversal {
                    book(reversal, -amount, &standing, context: context)
                }
            }
            if standing.takesPart {
                standing.accepted = max(0, standing.accepted - 1)
                standing.topics[question.topic, default: TopicRecord()].solved -= 1
            }
            settle(&standing, context: context)
        }
        record.tallies.creditedHelperId = nil
        record.tallies.answerId = nil
        question.state = .open
        question.resolvedAt = nil
        question.resolvedBy = nil
        question.updatedAt = now
        switch question.tier {
        case .volunteer where question.firstResponseAt == nil:
            let window = context.planner.peerWindow(priority: question.priority, from: now)
            start(window)
            question.peerDeadlineAt = window.dueAt
        case .volunteer:
            break
        case .staff:
            let timers = context.planner.staffArrival(
                priority: question.priority, at: now, alreadyAnswered: question.firstResponseAt != nil
            )
            for timer in timers { start(timer) }
        }
    }

    /// Moves a volunteer-tier question to staff: its claim ends, the peer window stops, the staff clocks start (the
    /// next-response clock too when a follow-up is waiting for a reply).
    mutating func moveToStaff(endingClaimAs end: ClaimEnd, reason: String?, context: ChangeContext) {
        let now = context.now
        let holder = question.holderId
        effects.append(.endClaim(end, at: now))
        question.tier = .staff
        if question.state == .claimed { question.state = .open }
        question.holderId = nil
        question.leaseExpiresAt = nil
        question.updatedAt = now
        record.tallies.movedToStaffAt = now
        effects.append(.endTimers([.peerWindow], as: .stopped, at: now))
        let answered = question.firstResponseAt != nil
        for timer in context.planner.staffArrival(priority: question.priority, at: now, alreadyAnswered: answered) {
            start(timer)
        }
        if record.tallies.awaitingReplySince != nil, answered,
            let timer = context.planner.staffTimer(.nextResponse, priority: question.priority, from: now)
        {
            start(timer)
        }
        var data = ["tier": "staff", "reason": reason ?? (end == .handoff ? "handoff" : "moved")]
        data["former_holder_id"] = holder
        addEvent(.routed, actor: nil, at: now, data)
    }

    /// Acts on what a customer's follow-up names: a critical matter makes the question critical and escalates it;
    /// a critical matter or a staff-only topic moves a volunteer-tier question to staff.
    mutating func route(_ routing: FollowUpRouting, context: ChangeContext) {
        guard routing.movesToStaff else { return }
        if routing.critical && question.priority != .critical {
            question.priority = .critical
            question.updatedAt = context.now
        }
        if question.tier == .volunteer {
            moveToStaff(endingClaimAs: .moved, reason: routing.reason, context: context)
        }
        if routing.critical {
            raise(.criticalIntake, note: "A customer follow-up names a critical matter.", actor: nil, context: context)
        }
    }
}
