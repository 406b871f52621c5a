import Foundation

/// Who may see and change a question, as pure decisions over its current state. Repositories call these inside
/// the transaction that changes the question, so the decision and the write see the same state.
public enum QuestionRules {
    /// Whether the account may see the question; throws the error to show if not.
    public static func checkView(_ question: Question, by viewer: Helper) throws {
        switch viewer.role {
        case .staff, .admin:
            return
        case .volunteer:
            if question.tier == .staff && question.holderId != viewer.id {
                throw PatenError.forbidden("staff_tier", "Question \(question.id) is for staff; volunteers cannot see it.")
            }
        case .integration:
            if question.channel != viewer.id {
                throw PatenError.notFound("question", id: question.id)
            }
        }
    }

    /// Whether the helper may claim the question, given how many live claims they hold.
    /// `holderHandle` names the current holder for the conflict message.
    public static func checkClaim(
        _ question: Question, by helper: Helper, activeClaims: Int, holderHandle: String?, at now: Date
    ) throws {
        guard helper.role.answersQuestions else {
            throw PatenError.forbidden("role_cannot_claim", "Integration accounts cannot claim questions.")
        }
        if helper.role == .volunteer && question.tier == .staff {
            throw PatenError.forbidden(
                "staff_tier", "Question \(question.id) is for staff; volunteers cannot claim it."
            )
        }
        if question.state == .resolved {
            throw PatenError.conflict(
                "question_resolved", "Question \(question.id) is resolved; reopen it before claiming."
            )
        }
        if !question.isClaimable(at: now) && question.holderId != helper.id {
            let holder = holderHandle ?? "another helper"
            throw PatenError.conflict(
                "already_claimed", "Question \(question.id) is already claimed by \(holder).",
                details: ["holder": holder]
            )
        }
        let isRenewal = question.holderId == helper.id && !question.isClaimable(at: now)
        if !isRenewal && activeClaims >= helper.capacity {
            throw PatenError.conflict(
                "at_capacity",
                "You hold \(activeClaims) question(s), your capacity; release or resolve one before claiming another.",
                details: ["capacity": String(helper.capacity)]
            )
        }
    }

    /// Whether the helper may reply: the live holder, or staff and admins at any time.
    public static func checkReply(_ question: Question, by helper: Helper, at now: Date) throws {
        guard helper.role.answersQuestions else {
            throw PatenError.forbidden(
                "role_cannot_reply", "Integration accounts send customer messages, not replies; use /messages."
            )
        }
        try checkView(question, by: helper)
        if question.state == .resolved {
            throw PatenError.conflict("question_resolved", "Question \(question.id) is resolved; reopen it to reply.")
        }
        if helper.role == .volunteer && !holdsLiveClaim(question, helper, now) {
            throw PatenError.conflict("not_holder", "Claim question \(question.id) before replying to it.")
        }
    }

    /// Whether the actor may release the question's claim: its holder, or staff and admins.
    public static func checkRelease(_ question: Question, by actor: Helper, at now: Date) throws {
        try checkView(question, by: actor)
        guard question.state == .claimed else {
            throw PatenError.conflict("not_claimed", "Question \(question.id) is not claimed by anyone.")
        }
        if !actor.role.isStaffOrAdmin && question.holderId != actor.id {
            throw PatenError.forbidden("not_holder", "Only the holder, staff or an admin can release question \(question.id).")
        }
    }

    /// Whether the actor may resolve the question: the live holder once a helper has replied to the customer's latest
    /// message (`awaitingReply` is whether a customer follow-up has no reply yet), or staff and admins (who must give
    /// a `note` saying why when nobody has ever replied: it goes into the timeline).
    public static func checkResolve(
        _ question: Question, by actor: Helper, note: String?, awaitingReply: Bool, at now: Date
    ) throws {
        try checkView(question, by: actor)
        if question.state == .resolved {
            throw PatenError.conflict("already_resolved", "Question \(question.id) is already resolved.")
        }
        if actor.role == .integration {
            throw PatenError.forbidden("role_cannot_resolve", "Integration accounts cannot resolve questions.")
        }
        if actor.role == .volunteer && !holdsLiveClaim(question, actor, now) {
            throw PatenError.conflict("not_holder", "Claim question \(question.id) before resolving it.")
        }
        // Closing an unanswered question would end the customer's wait silently, stop the peer window and count
        // as peer-resolved: volunteers must answer first; staff and admins may, and say why.
        if actor.role == .volunteer && question.firstResponseAt != nil && awaitingReply {
            throw PatenError.conflict(
                "no_answer_yet",
                "The customer's latest message on question \(question.id) has no reply yet; reply before resolving it."
            )
        }
        guard question.firstResponseAt == nil else { return }
        if actor.role == .volunteer {
            throw PatenError.conflict(
                "no_answer_yet", "Nobody has answered question \(question.id) yet; reply before resolving it."
            )
        }
        if note == nil {
            throw PatenError.unprocessable(
                "note_required",
                "Nobody has answered question \(question.id); give a note saying why it is resolved without a reply."
            )
        }
    }

    /// Most customer follow-ups one conversation may add per minute.
    public static let followUpsPerMinute = 20

    /// Whether a customer may add another follow-up now, given the times of their latest follow-ups (newest first,
    /// at most `followUpsPerMinute` of them): a flood of messages is refused with the seconds to wait.
    public static func checkFollowUpRate(_ question: Question, recent: [Date], at now: Date) throws {
        guard recent.count >= followUpsPerMinute, let oldest = recent.min() else { return }
        let frees = oldest.addingTimeInterval(60)
        guard frees > now else { return }
        throw PatenError.tooManyRequests(
            "too_many_messages",
            "Question \(question.id) had \(recent.count) customer messages in the last minute, the most allowed; "
                + "send the next one later.",
            retryAfter: Int(frees.timeIntervalSince(now).rounded(.up))
        )
    }

    /// Whether the actor may reopen: staff, admins, the helper who resolved it, or the integration it came from.
    public static func checkReopen(_ question: Question, by actor: Helper) throws {
        try checkView(question, by: actor)
        guard question.state == .resolved else {
            throw PatenError.conflict("not_resolved", "Question \(question.id) is not resolved.")
        }
        let allowed = actor.role.isStaffOrAdmin || question.resolvedBy == actor.id || question.channel == actor.id
        if !allowed {
            throw PatenError.forbidden(
                "cannot_reopen", "Only staff, an admin or the helper who resolved question \(question.id) can reopen it."
            )
        }
    }

    /// Whether the account may add a customer message: the integration the question came from.
    public static func checkCustomerMessage(_ question: Question, by actor: Helper) throws {
        guard actor.role == .integration else {
            throw PatenError.forbidden(
                "integration_only", "Only integration accounts post customer messages; helpers use /replies."
            )
        }
        try checkView(question, by: actor)
        // An erased customer starts afresh (docs/privacy.md): their words go into a new question, not under the
        // tombstones of the old one.
        try checkNotRedacted(question)
    }

    /// Refuses new words on a redacted question (a customer message, a reply, an escalation note): they would be
    /// about a customer whose data was erased, and no later erasure would find them.
    public static func checkNotRedacted(_ question: Question) throws {
        if Redaction.isRedacted(question) {
            throw PatenError.conflict(
                "question_redacted",
                "Question \(question.id) was redacted (its customer's data erased or purged): it takes no new messages "
                    + "or notes; open a new question, or resolve this one."
            )
        }
    }

    /// Whether the actor may escalate the question, and as what: a volunteer holding a live claim hands it off;
    /// staff and admins escalate by hand.
    public static func checkEscalate(_ question: Question, by actor: Helper, at now: Date) throws -> EscalationReason {
        guard actor.role.answersQuestions else {
            throw PatenError.forbidden("role_cannot_escalate", "Integration accounts cannot escalate questions.")
        }
        try checkView(question, by: actor)
        if question.state == .resolved {
            throw PatenError.conflict("question_resolved", "Question \(question.id) is resolved; reopen it first.")
        }
        if actor.role == .volunteer {
            guard holdsLiveClaim(question, actor, now) else {
                throw PatenError.conflict("not_holder", "Claim question \(question.id) before handing it to staff.")
            }
            return .handoff
        }
        return .manual
    }

    private static func holdsLiveClaim(_ question: Question, _ helper: Helper, _ now: Date) -> Bool {
        question.state == .claimed && question.holderId == helper.id && !question.isClaimable(at: now)
    }
}
