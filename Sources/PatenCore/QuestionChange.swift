import Foundation

/// What a question's row keeps beyond the `Question` clients see: the clocks and counters the rules read and
/// metrics sum.
public struct QuestionTallies: Sendable, Equatable {
    /// Since when the customer's latest follow-up has had no reply; nil when nothing is waiting.
    public var awaitingReplySince: Date?
    /// When the question left the volunteers for staff.
    public var movedToStaffAt: Date?
    /// Leases that ran out with no reply from their holder.
    public var claimExpiries: Int
    public var nextResponseCount: Int
    public var nextResponseTotalMs: Int64
    public var nextResponseMaxMs: Int64
    public var nextResponseBreaches: Int
    public var staffReplies: Int
    public var volunteerReplies: Int
    /// Who the resolution credits (the answer's author), fixed when the question is resolved; nil while it is open.
    public var creditedHelperId: String?
    /// The helper reply the question was resolved with.
    public var answerId: String?

    /// Creates tallies; the defaults are a new question's.
    public init(
        awaitingReplySince: Date? = nil, movedToStaffAt: Date? = nil, claimExpiries: Int = 0,
        nextResponseCount: Int = 0, nextResponseTotalMs: Int64 = 0, nextResponseMaxMs: Int64 = 0,
        nextResponseBreaches: Int = 0, staffReplies: Int = 0, volunteerReplies: Int = 0,
        creditedHelperId: String? = nil, answerId: String? = nil
    ) {
        self.creditedHelperId = creditedHelperId
        self.answerId = answerId
        self.awaitingReplySince = awaitingReplySince
        self.movedToStaffAt = movedToStaffAt
        self.claimExpiries = claimExpiries
        self.nextResponseCount = nextResponseCount
        self.nextResponseTotalMs = nextResponseTotalMs
        self.nextResponseMaxMs = nextResponseMaxMs
        self.nextResponseBreaches = nextResponseBreaches
        self.staffReplies = staffReplies
        self.volunteerReplies = volunteerReplies
    }
}

/// A question's whole row: what a change reads and writes back.
public struct QuestionRecord: Sendable, Equatable {
    public var question: Question
    public var tallies: QuestionTallies

    /// Creates a record.
    public init(question: Question, tallies: QuestionTallies = QuestionTallies()) {
        self.question = question
        self.tallies = tallies
    }
}

/// A helper reply's author: the latest reply's, or the one a resolution names.
public struct Replier: Sendable, Equatable {
    public var id: String
    public var role: Role
    /// The reply.
    public var messageId: String?

    /// Creates a replier.
    public init(id: String, role: Role, messageId: String? = nil) {
        self.id = id
        self.role = role
        self.messageId = messageId
    }
}

/// What a command may ask the store to load besides the question's row.
public struct SnapshotNeeds: Sendable, Equatable {
    /// Count this helper's live claims (and, on PostgreSQL, lock the helper's row first so they are counted one at
    /// a time).
    public var claimsOf: String?
    /// The current holder's handle, for a conflict message.
    public var holderHandle: Bool
    /// The times of the customer's follow-ups in the last minute, newest first.
    public var recentFollowUps: Bool
    /// Who wrote the latest reply, and whether the question was rated already.
    public var resolution: Bool
    /// The author of this message, if it is a helper reply on the question (the answer a resolution names).
    public var answerId: String?
    /// A helper's programme standing (on PostgreSQL, under the helper's row lock).
    public var standing: StandingNeeds?
    /// Every text about the question besides its row: message bodies, the rating comment, escalation notes, chat
    /// conversation ids (a chat may key them by the customer's phone number).
    public var texts: Bool

    /// Creates needs; by default only the row (and the expired claim's facts when its lease ran out).
    public init(
        claimsOf: String? = nil, holderHandle: Bool = false, recentFollowUps: Bool = false, resolution: Bool = false,
        answerId: String? = nil, standing: StandingNeeds? = nil, texts: Bool = false
    ) {
        self.texts = texts
        self.claimsOf = claimsOf
        self.holderHandle = holderHandle
        self.recentFollowUps = recentFollowUps
        self.resolution = resolution
        self.answerId = answerId
        self.standing = standing
    }
}

/// What the rules need to know about one question, loaded by a store in the transaction that will apply the change,
/// under the question's lock.
public struct QuestionSnapshot: Sendable, Equatable {
    public var record: QuestionRecord
    /// When the question is claimed under a lease that ran out: whether the holder replied during that claim.
    /// Loaded only then (nil otherwise).
    public var expiredHolderReplied: Bool?
    /// The live claims of `SnapshotNeeds.claimsOf` (expiring after now, not ended).
    public var activeClaims: Int
    /// The holder's handle, with `SnapshotNeeds.holderHandle`.
    public var holderHandle: String?
    /// With `SnapshotNeeds.recentFollowUps`: the customer's follow-ups of the last minute, newest first.
    public var recentFollowUps: [Date]
    /// With `SnapshotNeeds.resolution`: who wrote the latest reply.
    public var lastReplier: Replier?
    /// With `SnapshotNeeds.resolution`: whether the customer has rated the question.
    public var rated: Bool
    /// With `SnapshotNeeds.answerId`: the named reply's author, when it is a helper reply on this question.
    public var answer: Replier?
    /// With `SnapshotNeeds.standing`: the helper's standing, nil when there is no such helper (nobody answered, say).
    public var standing: HelperStanding?
    /// With `SnapshotNeeds.texts`: message bodies, the rating comment and escalation notes, in no order.
    public var texts: [String] = []

    /// Creates a snapshot.
    public init(
        record: QuestionRecord, expiredHolderReplied: Bool? = nil, activeClaims: Int = 0, holderHandle: String? = nil,
        recentFollowUps: [Date] = [], lastReplier: Replier? = nil, rated: Bool = false, answer: Replier? = nil,
        standing: HelperStanding? = nil
    ) {
        self.answer = answer
        self.standing = standing
        self.record = record
        self.expiredHolderReplied = expiredHolderReplied
        self.activeClaims = activeClaims
        self.holderHandle = holderHandle
        self.recentFollowUps = recentFollowUps
        self.lastReplier = lastReplier
        self.rated = rated
    }

    public var question: Question { record.question }
}

/// A timeline event, as the rules decide it: stored in the question's timeline and, for the event types that go
/// out, published to subscribed integrations with `outbound` facts added (facts the timeline must not keep).
public struct TimelineFact: Sendable, Equatable {
    public var type: QuestionEventType
    public var actorId: String?
    public var at: Date
    public var data: [String: String]
    public var outbound: [String: String]
    /// The question as it stood when the event happened, for the outbound payload.
    public var question: Question

    /// Creates a fact.
    public init(
        _ type: QuestionEventType, actor: String?, at: Date, _ data: [String: String], outbound: [String: String] = [:],
        question: Question
    ) {
        self.type = type
        self.actorId = actor
        self.at = at
        self.data = data
        self.outbound = outbound
        self.question = question
    }
}

/// An escalation the rules raise. Escalations are unique per question, reason and level: the store inserts it only if
/// none exists (the concurrency rule it keeps in SQL), then records `event`; when one exists it throws `ifExists`,
/// or does nothing when that is nil.
public struct EscalationDraft: Sendable, Equatable {
    public var id: String
    public var reason: EscalationReason
    public var level: Int
    public var note: String?
    public var actorId: String?
    public var at: Date
    public var ifExists: PatenError?
    /// The `question.escalated` event recorded when it is new.
    public var event: TimelineFact

    /// Creates a draft.
    public init(
        id: String, reason: EscalationReason, level: Int, note: String?, actorId: String?, at: Date,
        ifExists: PatenError?, event: TimelineFact
    ) {
        self.id = id
        self.reason = reason
        self.level = level
        self.note = note
        self.actorId = actorId
        self.at = at
        self.ifExists = ifExists
        self.event = event
    }
}

extension EscalationDraft {
    /// The escalation this draft stores, about the question as the change leaves it.
    public func escalation(about question: Question) -> Escalation {
        Escalation(
            id: id, questionId: question.id, reason: reason, level: level, state: .open, note: note, createdBy: actorId,
            createdAt: at, acknowledgedAt: nil, acknowledgedBy: nil, resolvedAt: nil, resolvedBy: nil, updatedAt: at,
            questionSubject: question.subject, questionTopic: question.topic, questionPriority: question.priority
        )
    }
}

/// The rating link issued with a resolution, and whom the rating will credit.
public struct RatingIssue: Sendable, Equatable {
    public var grant: RatingGrant
    public var helperId: String?
    public var helperTier: Tier?

    /// Creates an issue.
    public init(grant: RatingGrant, helperId: String?, helperTier: Tier?) {
        self.grant = grant
        self.helperId = helperId
        self.helperTier = helperTier
    }
}

/// One write of a change besides the question's row, applied in order.
public enum QuestionEffect: Sendable, Equatable {
    case message(Message)
    /// A new claim (the store's one-holder index refuses a second live one: `already_claimed`).
    case startClaim(id: String, helperId: String, at: Date, expiresAt: Date)
    /// The live claim's lease moves to `expiresAt`.
    case renewClaim(expiresAt: Date)
    /// The live claim, if any, ends.
    case endClaim(ClaimEnd, at: Date)
    /// A clock starts or restarts; with `onlyIfEnded`, one still running is left alone.
    case startTimer(SLATimer, onlyIfEnded: Bool)
    /// Live clocks of these targets end; a breached one stays breached.
    case endTimers([SLATarget], as: SLAStatus, at: Date)
    /// The sweep's verdict on one clock: its new status and when to look again (nil: never).
    case markTimer(SLATarget, status: SLAStatus, nextCheckAt: Date?)
    case event(TimelineFact)
    case escalation(EscalationDraft)
    /// Issues the rating link, unless the question was rated meanwhile.
    case issueRating(RatingIssue)
    /// Records the customer's score (and whether it solved the problem) on the question's rating.
    case recordScore(score: Int, comment: String?, solved: Bool?, at: Date)
    /// Appends a row to the points ledger.
    case points(LedgerEntry)
    /// Stores the helper's recomputed level.
    case setLevel(helperId: String, level: String)
    /// Awards a badge (held under `key`).
    case badge(helperId: String, key: String, at: Date)
    /// Pauses a volunteer: no claims until staff resume them.
    case pauseHelper(helperId: String, at: Date)
    /// Stores the question's similarity signature in a group (see `SimilaritySignature`), kept until `keepUntil`.
    case signature(groupId: String, SimilaritySignature, keepUntil: Date)
    /// Keeps the question's signature at least until then (a solved question, offered as a similar answer).
    case keepSignature(until: Date)
    /// Stores a new incident.
    case openIncident(Incident)
    /// Links a question (this one, or another one of a new incident's group) to an incident.
    case linkIncident(IncidentLink)
    /// Removes a question's link to its incident.
    case unlinkIncident(questionId: String)
    /// Stores an inbound webhook's receipt, so a repeat is recognised.
    case receipt(InboundOrigin, at: Date)
    /// Links a chat conversation to the question.
    case conversation(InboundOrigin, at: Date)
    /// Marks what an idempotent request wrote on its reservation.
    case idempotentWrite(IdempotencyReservation, IdempotentWrite)
    /// Writes the tombstones of the question's subject and customer (the change's row) and of every text about it:
    /// messages, rating comment, escalation notes, timeline facts, outbox payloads and stored idempotent responses
    /// (`Redaction.redact(json:)`), the titles of incidents named after it; deletes its similarity signature and chat
    /// conversation links (a later message in that conversation starts a new question); sets `redacted_at`.
    case redact(Redaction)
}

/// Everything one command changes about one question: its row as it ends up, and the writes that go with it. Built
/// by `QuestionCommands` from a snapshot; applied by a store in the snapshot's transaction.
public struct QuestionChange: Sendable, Equatable {
    /// The row as loaded; nil for a new question.
    public var before: QuestionRecord?
    /// The row as the change leaves it.
    public var record: QuestionRecord
    public var effects: [QuestionEffect]
    /// What a sweep or lease-expiry step did, for the pass's totals.
    public var outcome: SweepOutcome

    /// Starts a change from a loaded snapshot, changing nothing yet.
    public init(from snapshot: QuestionSnapshot) {
        self.before = snapshot.record
        self.record = snapshot.record
        self.effects = []
        self.outcome = SweepOutcome()
    }

    /// Starts the change that stores a new question.
    public init(inserting record: QuestionRecord) {
        self.before = nil
        self.record = record
        self.effects = []
        self.outcome = SweepOutcome()
    }

    public var question: Question {
        get { record.question }
        set { record.question = newValue }
    }

    /// Whether the question's row must be written.
    public var writesRow: Bool { before != record }

    /// The messages the change adds.
    public var messages: [Message] {
        effects.compactMap { if case .message(let message) = $0 { message } else { nil } }
    }

    /// The escalations the change raises.
    public var escalations: [EscalationDraft] {
        effects.compactMap { if case .escalation(let draft) = $0 { draft } else { nil } }
    }

    /// The helper the change pauses, if any.
    public var pausedHelper: String? {
        effects.lazy.compactMap { if case .pauseHelper(let id, _) = $0 { id } else { nil } }.first
    }

    /// The timeline events the change records directly (not those of new escalations).
    public var events: [TimelineFact] {
        effects.compactMap { if case .event(let fact) = $0 { fact } else { nil } }
    }
}

/// What a store did with a change.
public struct AppliedChange: Sendable, Equatable {
    /// The question as stored afterwards.
    public var question: Question
    /// The escalations the change created (an escalation that existed already is not here).
    public var escalations: [Escalation]
    /// The messages the change stored.
    public var messages: [Message]
    /// The sweep or lease-expiry totals.
    public var outcome: SweepOutcome
    /// The helper the change paused, whose held questions go back to the pool.
    public var pausedHelper: String?

    /// Creates a result.
    public init(
        question: Question, escalations: [Escalation], messages: [Message] = [], outcome: SweepOutcome = SweepOutcome(),
        pausedHelper: String? = nil
    ) {
        self.pausedHelper = pausedHelper
        self.question = question
        self.escalations = escalations
        self.messages = messages
        self.outcome = outcome
    }
}

/// A clock the sweep must look at: due for a warning, a breach, or (the peer window) a move to staff.
public struct DueClock: Sendable, Equatable {
    public var questionId: String
    public var target: SLATarget
    public var status: SLAStatus
    public var dueAt: Date

    /// Creates a due clock.
    public init(questionId: String, target: SLATarget, status: SLAStatus, dueAt: Date) {
        self.questionId = questionId
        self.target = target
        self.status = status
        self.dueAt = dueAt
    }
}

/// A rating link as stored, looked up by its token's hash.
public struct StoredRating: Sendable, Equatable {
    public var questionId: String
    public var expiresAt: Date
    public var helperId: String?
    public var helperTier: Tier?
    public var score: Int?
    public var solved: Bool?

    /// Creates a stored rating.
    public init(questionId: String, expiresAt: Date, helperId: String?, helperTier: Tier?, score: Int?) {
        self.questionId = questionId
        self.expiresAt = expiresAt
        self.helperId = helperId
        self.helperTier = helperTier
        self.score = score
    }
}
