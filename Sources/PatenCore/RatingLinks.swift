import Foundation

/// Derives a rating link's token from the question and the instant the link was issued, under a key only the server
/// holds (HMAC-SHA256 in production). Paten stores only the token's hash, yet can hand the same link again to those
/// entitled to it (the integration the question came from) without anyone being able to forge one.
public protocol RatingTokenDeriver: Sendable {
    /// The token for the question's link issued at the instant (milliseconds since 1970): `rt_` and base64url text.
    func token(questionId: String, issuedAt: Int64) -> String
}

/// The customer's single-use rating links: how they are issued, where they point and who gets them.
///
/// A link belongs to the customer. It goes out only in the outbound `question.resolved` message to the integration
/// the question came from, and in that integration's own `GET` of the question; staff and admins may fetch it for
/// questions submitted through the API (channel `api`), to pass it on. Volunteers never see it. Nothing stores the
/// link: ratings keep the token's hash, and outbox rows keep a placeholder that the deliverer fills in at send time.
public struct RatingLinks: Sendable {
    /// How long a link stays valid.
    public static let lifetime: TimeInterval = 14 * 86400
    /// Starts the placeholder that outbound payloads carry instead of the link.
    static let placeholderPrefix = "paten:rating-link:"

    private let deriver: any RatingTokenDeriver
    private let hasher: any SecretHasher
    private let publicURL: String

    /// Creates the links; `publicURL` is the address customers reach, the base of every link.
    public init(deriver: any RatingTokenDeriver, hasher: any SecretHasher, publicURL: String) {
        self.deriver = deriver
        self.hasher = hasher
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
    }

    /// A new grant for the question, issued now (to the millisecond, as stored).
    public func grant(questionId: String, at now: Date) -> RatingGrant {
        let issued = now.millisecondsSince1970
        return RatingGrant(
            tokenHash: hasher.hash(deriver.token(questionId: questionId, issuedAt: issued)),
            issuedAt: Date(millisecondsSince1970: issued), expiresAt: now.addingTimeInterval(Self.lifetime)
        )
    }

    /// The link for a grant issued at the instant.
    public func url(questionId: String, issuedAt: Date) -> String {
        let token = deriver.token(questionId: questionId, issuedAt: issuedAt.millisecondsSince1970)
        return "\(publicURL)/v1/ratings/\(token)"
    }

    /// The hash of a token a customer presents, as ratings store it.
    public func hash(token: String) -> String { hasher.hash(token) }

    /// The link to show the viewer for the question, if any: only while it is unused and unexpired, only to those
    /// entitled to it, and only for links this key derives (links issued before derivation are not regenerable).
    public func visibleURL(for question: Question, grant: IssuedRatingLink?, viewer: Helper, at now: Date) -> String? {
        guard let grant, question.state == .resolved, !grant.used, grant.expiresAt > now,
            Self.mayReceive(question, viewer: viewer)
        else { return nil }
        let token = deriver.token(questionId: question.id, issuedAt: grant.issuedAt.millisecondsSince1970)
        guard hasher.hash(token) == grant.tokenHash else { return nil }
        return "\(publicURL)/v1/ratings/\(token)"
    }

    /// Whether the viewer may receive the question's rating link: the integration it came from, or staff and admins
    /// for questions submitted through the API.
    public static func mayReceive(_ question: Question, viewer: Helper) -> Bool {
        switch viewer.role {
        case .integration: question.channel == viewer.id
        case .staff, .admin: question.channel == "api"
        case .volunteer: false
        }
    }

    /// What an outbound payload carries in place of the link: the question and the issue instant, no secret.
    public static func placeholder(questionId: String, issuedAt: Date) -> String {
        "\(placeholderPrefix)\(questionId):\(issuedAt.millisecondsSince1970)"
    }

    /// The payload with its placeholder (if any) replaced by the link, done just before signing. The placeholder
    /// is found only as the value of `"rating_url"`: inside an encoded JSON string every quote is escaped, so
    /// `"rating_url":"` cannot come from text a customer wrote.
    public func fill(_ payload: [UInt8]) -> [UInt8] {
        let marker = Array(#""rating_url":""#.utf8) + Array(Self.placeholderPrefix.utf8)
        guard let start = payload.firstRange(of: marker) else { return payload }
        let valueStart = start.lowerBound + marker.count - Self.placeholderPrefix.utf8.count
        guard let end = payload[start.upperBound...].firstIndex(of: UInt8(ascii: "\"")) else { return payload }
        let reference = String(decoding: payload[start.upperBound..<end], as: UTF8.self)
        guard let colon = reference.lastIndex(of: ":"), let issued = Int64(reference[reference.index(after: colon)...])
        else { return payload }
        let questionId = String(reference[..<colon])
        let link = url(questionId: questionId, issuedAt: Date(millisecondsSince1970: issued))
        // The public URL is configuration, not checked for JSON: escape what would end the string.
        let escaped = link.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return Array(payload[..<valueStart]) + Array(escaped.utf8) + Array(payload[end...])
    }
}

/// The rating link a resolved question has, as stored: its hash and times, never the token.
public struct IssuedRatingLink: Sendable, Equatable {
    public var tokenHash: String
    public var issuedAt: Date
    public var expiresAt: Date
    /// Whether the customer has rated through it.
    public var used: Bool

    /// Creates the stored link's facts.
    public init(tokenHash: String, issuedAt: Date, expiresAt: Date, used: Bool) {
        self.tokenHash = tokenHash
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.used = used
    }
}

/// What a customer's rating may do, decided once for both stores.
public enum RatingRules {
    /// Scores at or below this escalate (`low_rating`).
    public static let lowScore = 2

    /// What a stored link can do now.
    public enum LinkState: Sendable, Equatable {
        case open, used, expired
    }

    /// The link's state now: used once rated, expired at `expiresAt`, else open.
    public static func state(used: Bool, expiresAt: Date, at now: Date) -> LinkState {
        if used { return .used }
        return expiresAt <= now ? .expired : .open
    }

    /// Whether the stored link can still take a rating now: unused and unexpired.
    public static func checkLink(used: Bool, expiresAt: Date, at now: Date) throws {
        let state = state(used: used, expiresAt: expiresAt, at: now)
        if state == .used { throw PatenError.conflict("already_rated", "This question has been rated already; thank you.") }
        if state == .expired {
            throw PatenError(
                .notFound, code: "rating_expired",
                message: "This rating link has expired (links last \(Int(RatingLinks.lifetime / 86400)) days)."
            )
        }
    }

    /// Whether the score escalates the question to staff.
    public static func escalates(_ score: Int) -> Bool { score <= lowScore }
}
