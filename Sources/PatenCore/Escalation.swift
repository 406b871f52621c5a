import Foundation

/// Why a question needs staff attention.
public enum EscalationReason: String, Codable, Sendable, CaseIterable {
    /// Submitted with critical priority.
    case criticalIntake = "critical_intake"
    /// No volunteer answered within the peer window; the question moved to staff.
    case peerWindowExpired = "peer_window_expired"
    /// A second claim on the question ran out without a reply.
    case claimExpired = "claim_expired"
    /// A staff target is close to breaching.
    case slaWarning = "sla_warning"
    /// A staff target was breached.
    case slaBreached = "sla_breached"
    /// The customer rated the answer 1 or 2.
    case lowRating = "low_rating"
    /// A volunteer handed the question to staff with a note.
    case handoff
    /// Staff escalated by hand.
    case manual
    /// A volunteer was paused after low ratings; staff review and resume them.
    case volunteerPaused = "volunteer_paused"
    /// One of a new volunteer's first accepted answers, for staff to look at.
    case probationReview = "probation_review"
    /// A surge of similar questions opened an incident (raised on the question whose intake opened it).
    case surge

    /// The level this reason raises: 2 (staff lead) for a breach, 1 (staff queue) for the rest.
    public var defaultLevel: Int { self == .slaBreached ? 2 : 1 }

    /// Whether an unresolved escalation of this reason puts its question at risk (a staff target near or past
    /// breach): what the console's overview counts as "at risk".
    public var atRisk: Bool { self == .slaWarning || self == .slaBreached }
}

/// Where an escalation is in its handling.
public enum EscalationState: String, Codable, Sendable, CaseIterable {
    case open
    case acknowledged
    case resolved
}

/// A record that a question needs staff attention: recorded once per question, reason and level.
public struct Escalation: Sendable, Equatable {
    public var id: String
    public var questionId: String
    public var reason: EscalationReason
    /// 1 = staff queue, 2 = staff lead.
    public var level: Int
    public var state: EscalationState
    /// What was tried and what the customer needs (handoff, manual), or what fired (automatic reasons).
    public var note: String?
    /// The account that escalated; nil for the sweeper and intake.
    public var createdBy: String?
    public var createdAt: Date
    public var acknowledgedAt: Date?
    public var acknowledgedBy: String?
    public var resolvedAt: Date?
    public var resolvedBy: String?
    public var updatedAt: Date
    /// The question's subject, topic and priority, for lists.
    public var questionSubject: String
    public var questionTopic: String
    public var questionPriority: Priority

    /// Creates an escalation value.
    public init(
        id: String, questionId: String, reason: EscalationReason, level: Int, state: EscalationState, note: String?,
        createdBy: String?, createdAt: Date, acknowledgedAt: Date? = nil, acknowledgedBy: String? = nil,
        resolvedAt: Date? = nil, resolvedBy: String? = nil, updatedAt: Date, questionSubject: String,
        questionTopic: String, questionPriority: Priority
    ) {
        self.id = id
        self.questionId = questionId
        self.reason = reason
        self.level = level
        self.state = state
        self.note = note
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.acknowledgedAt = acknowledgedAt
        self.acknowledgedBy = acknowledgedBy
        self.resolvedAt = resolvedAt
        self.resolvedBy = resolvedBy
        self.updatedAt = updatedAt
        self.questionSubject = questionSubject
        self.questionTopic = questionTopic
        self.questionPriority = questionPriority
    }
}

/// One change to an escalation, in the order changes happened: what the live stream sends.
public struct EscalationChange: Sendable, Equatable {
    /// What happened.
    public enum Kind: String, Sendable, Codable {
        case created = "escalation.created"
        case acknowledged = "escalation.acknowledged"
        case resolved = "escalation.resolved"
    }

    /// Position in the global change order; the stream's event id.
    public var sequence: Int64
    public var kind: Kind
    public var escalation: Escalation

    /// Creates a change.
    public init(sequence: Int64, kind: Kind, escalation: Escalation) {
        self.sequence = sequence
        self.kind = kind
        self.escalation = escalation
    }
}

/// Filters for listing escalations.
public struct EscalationFilter: Sendable, Equatable {
    public var state: EscalationState?
    public var level: Int?
    public var reason: EscalationReason?
    /// Only escalations created at least this long ago.
    public var minimumAge: TimeInterval?
    public var questionId: String?
    public var limit: Int

    /// Creates a filter.
    public init(
        state: EscalationState? = nil, level: Int? = nil, reason: EscalationReason? = nil,
        minimumAge: TimeInterval? = nil, questionId: String? = nil, limit: Int = 100
    ) {
        self.state = state
        self.level = level
        self.reason = reason
        self.minimumAge = minimumAge
        self.questionId = questionId
        self.limit = limit
    }
}
