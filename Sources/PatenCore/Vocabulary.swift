import Foundation

/// What a helper account may do.
public enum Role: String, Codable, Sendable, CaseIterable {
    case volunteer
    case staff
    case admin
    case integration

    /// Whether the role answers questions (and so has a queue, claims and capacity).
    public var answersQuestions: Bool { self != .integration }

    /// Whether the role sees every question, contact data included.
    public var isStaffOrAdmin: Bool { self == .staff || self == .admin }
}

/// Whether a helper is around to take questions.
public enum Presence: String, Codable, Sendable, CaseIterable {
    case available
    case away
    case offline
    /// Paused by the programme after low ratings (not a presence a helper sets; staff resume them).
    case paused
}

/// Who a question is for now.
public enum Tier: String, Codable, Sendable, CaseIterable {
    case volunteer
    case staff
}

/// How urgent a question is, lowest first.
public enum Priority: String, Codable, Sendable, CaseIterable, Comparable {
    case low
    case normal
    case high
    case critical

    /// Position in the order low < normal < high < critical.
    public var rank: Int {
        switch self {
        case .low: 0
        case .normal: 1
        case .high: 2
        case .critical: 3
        }
    }

    public static func < (lhs: Priority, rhs: Priority) -> Bool { lhs.rank < rhs.rank }
}

/// Where a question is in its life.
public enum QuestionState: String, Codable, Sendable, CaseIterable {
    /// Waiting for a helper to claim it.
    case open
    /// Held by one helper under a lease.
    case claimed
    /// Answered and closed; may be reopened.
    case resolved
}

/// Who wrote a message.
public enum AuthorKind: String, Codable, Sendable {
    case customer
    case helper
}

/// Why a claim ended.
public enum ClaimEnd: String, Codable, Sendable {
    case released
    case expired
    case resolved
    /// A volunteer handed the question to staff.
    case handoff
    /// The question moved to staff when the peer window ran out.
    case moved
}

/// The kinds of fact recorded in a question's timeline.
public enum QuestionEventType: String, Codable, Sendable, CaseIterable {
    case created = "question.created"
    case routed = "question.routed"
    case claimed = "question.claimed"
    case released = "question.released"
    case claimExpired = "question.claim_expired"
    case replied = "question.replied"
    case customerReplied = "question.customer_replied"
    case resolved = "question.resolved"
    case reopened = "question.reopened"
    case escalated = "question.escalated"
    case rated = "question.rated"
    case slaWarning = "sla.warning"
    case slaBreached = "sla.breached"
    /// The credited helper's level moved (recorded on the question whose change moved it).
    case levelChanged = "helper.level_changed"
    /// The credited helper earned a badge.
    case badgeAwarded = "helper.badge_awarded"
    /// A volunteer was paused after low ratings.
    case helperPaused = "helper.paused"
    /// A surge opened an incident (recorded on the question whose intake opened it, the incident's anchor).
    case incidentOpened = "incident.opened"
    /// Staff posted an update to an incident, or merged another into it (on the anchor).
    case incidentUpdated = "incident.updated"
    /// Staff resolved an incident (on the anchor).
    case incidentResolved = "incident.resolved"
    /// The question was linked to an incident.
    case incidentLinked = "incident.linked"
    /// Staff unlinked the question from its incident.
    case incidentUnlinked = "incident.unlinked"
}
