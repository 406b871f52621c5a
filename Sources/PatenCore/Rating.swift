import Foundation

/// A customer's satisfaction score for a resolved question.
public struct Rating: Sendable, Equatable {
    public var questionId: String
    /// 1 (very unhappy) to 5 (very happy).
    public var score: Int
    public var comment: String?
    /// The helper whose reply resolved the question.
    public var helperId: String?
    /// That helper's tier when the question was resolved.
    public var helperTier: Tier?
    public var ratedAt: Date
    /// Whether the customer said the answer solved the problem (nil: not asked or not said).
    public var solved: Bool?

    /// Creates a rating.
    public init(
        questionId: String, score: Int, comment: String?, helperId: String?, helperTier: Tier?, ratedAt: Date,
        solved: Bool? = nil
    ) {
        self.solved = solved
        self.questionId = questionId
        self.score = score
        self.comment = comment
        self.helperId = helperId
        self.helperTier = helperTier
        self.ratedAt = ratedAt
    }
}

/// A single-use rating link issued when a question is resolved.
public struct RatingGrant: Sendable, Equatable {
    /// SHA-256 of the token; the token itself is only in the link, derived again when it is sent (`RatingLinks`).
    public var tokenHash: String
    /// When the link was issued, to the millisecond: with the question's id, what the token is derived from.
    public var issuedAt: Date
    public var expiresAt: Date

    /// Creates a grant.
    public init(tokenHash: String, issuedAt: Date, expiresAt: Date) {
        self.tokenHash = tokenHash
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }
}

/// What one sweep of the escalation engine did.
public struct SweepOutcome: Sendable, Equatable {
    /// Clocks looked at.
    public var examined = 0
    /// Questions moved to staff because their peer window ran out.
    public var movedToStaff = 0
    public var warnings = 0
    public var breaches = 0

    /// Creates an empty outcome.
    public init() {}
}

extension SweepOutcome {
    /// Adds another pass's (or step's) totals.
    public mutating func add(_ other: SweepOutcome) {
        examined += other.examined
        movedToStaff += other.movedToStaff
        warnings += other.warnings
        breaches += other.breaches
    }
}
