import Foundation

/// A console sign-in: a staff or admin token exchanged for a cookie. Only the cookie value's hash is kept.
public struct ConsoleSession: Sendable, Equatable {
    public var idHash: String
    public var helperId: String
    /// The token signed in with: revoking it ends the session.
    public var tokenId: String
    /// The value every console form carries back (CSRF protection).
    public var csrfToken: String
    public var createdAt: Date
    public var expiresAt: Date

    /// Creates a session's facts.
    public init(idHash: String, helperId: String, tokenId: String, csrfToken: String, createdAt: Date, expiresAt: Date) {
        self.idHash = idHash
        self.helperId = helperId
        self.tokenId = tokenId
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// One cell of the live queue: questions of a tier and topic in a state (open or claimed).
public struct QueueCell: Sendable, Equatable {
    public var tier: Tier
    public var topic: String
    public var state: QuestionState
    public var count: Int

    /// Creates a cell.
    public init(tier: Tier, topic: String, state: QuestionState, count: Int) {
        self.tier = tier
        self.topic = topic
        self.state = state
        self.count = count
    }
}

/// A rating link as its page shows it: the question it rates and whether it can still take a rating.
public struct RatingLinkView: Sendable, Equatable {
    public var subject: String
    public var language: String?
    public var used: Bool
    public var expiresAt: Date

    /// Creates the view.
    public init(subject: String, language: String?, used: Bool, expiresAt: Date) {
        self.subject = subject
        self.language = language
        self.used = used
        self.expiresAt = expiresAt
    }
}

/// What the console and the rating page read and keep, besides what the desks do.
public protocol ConsoleRepository: Sendable {
    /// Stores a new session.
    func insertConsoleSession(_ session: ConsoleSession) async throws
    /// The session whose cookie has this hash.
    func consoleSession(idHash: String) async throws -> ConsoleSession?
    /// Ends the session (sign-out); nothing when there is none.
    func deleteConsoleSession(idHash: String) async throws
    /// Deletes up to `limit` sessions that ended before `now`; returns how many.
    func purgeConsoleSessions(before now: Date, limit: Int) async throws -> Int
    /// Open and claimed questions by tier, topic and state, from the counts triggers keep (a few rows, however many
    /// questions there are).
    func queueCells() async throws -> [QueueCell]
    /// Folds up to `limit` recorded count changes into the counts (PostgreSQL records changes so that concurrent
    /// transactions do not wait on the same counter rows; SQLite counts directly and has none); returns how many.
    func foldQueueCounts(limit: Int) async throws -> Int
    /// Unresolved escalations by reason and state.
    func unresolvedEscalationsByReason() async throws -> [(reason: EscalationReason, state: EscalationState, count: Int)]
    /// The rating link with this token hash, read without locking or changing anything.
    func ratingLink(tokenHash: String) async throws -> RatingLinkView?
}

/// Console sign-in and sessions: who may sign in, how long a session lasts, when it ends. The store keeps them.
public struct ConsoleSessions: Sendable {
    /// How long a session lasts at most.
    public static let lifetime: TimeInterval = 12 * 3600
    /// Sessions purged per pass.
    public static let purgeBatch = 1000

    let sessions: any ConsoleRepository
    let tokens: any TokenRepository
    let helpers: any HelperRepository
    let hasher: any SecretHasher
    let clock: any Clock

    /// Creates the service.
    public init(
        sessions: any ConsoleRepository, tokens: any TokenRepository, helpers: any HelperRepository,
        hasher: any SecretHasher, clock: any Clock
    ) {
        self.sessions = sessions
        self.tokens = tokens
        self.helpers = helpers
        self.hasher = hasher
        self.clock = clock
    }

    /// A new random value for a cookie or a form: 32 bytes, base64url.
    public static func randomValue() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Exchanges a token for a session: 401 `invalid_token` for an unknown, revoked or malformed token, 403
    /// `console_staff_only` for a volunteer's or an integration's. Returns the cookie value (shown once) and the
    /// session.
    public func signIn(secret: String) async throws -> (cookie: String, session: ConsoleSession, helper: Helper) {
        let secret = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        let now = clock.now()
        guard secret.hasPrefix("pat_"), secret.count < 200,
            let found = try await tokens.authenticate(secretHash: hasher.hash(secret), at: now)
        else {
            throw PatenError(
                .unauthenticated, code: "invalid_token",
                message: "This token is not valid: check that it was copied whole and has not been revoked."
            )
        }
        let (helper, token) = found
        guard helper.role.isStaffOrAdmin else {
            throw PatenError.forbidden(
                "console_staff_only",
                "The console is for staff and admins; a \(helper.role.rawValue) token cannot sign in to it."
            )
        }
        let cookie = Self.randomValue()
        let session = ConsoleSession(
            idHash: hasher.hash(cookie), helperId: helper.id, tokenId: token.id, csrfToken: Self.randomValue(),
            createdAt: now, expiresAt: now.addingTimeInterval(Self.lifetime)
        )
        try await sessions.insertConsoleSession(session)
        return (cookie, session, helper)
    }

    /// The session a cookie stands for and its account, if it is still good: not expired, its token not revoked, its
    /// account active and still staff or admin. Nil otherwise.
    public func session(cookie: String) async throws -> (session: ConsoleSession, helper: Helper)? {
        guard !cookie.isEmpty, cookie.count < 100 else { return nil }
        guard let session = try await sessions.consoleSession(idHash: hasher.hash(cookie)),
            session.expiresAt > clock.now(),
            let token = try await tokens.token(id: session.tokenId), token.revokedAt == nil,
            let helper = try await helpers.helper(id: session.helperId), helper.active, helper.role.isStaffOrAdmin
        else { return nil }
        return (session, helper)
    }

    /// Ends the session the cookie stands for.
    public func signOut(cookie: String) async throws {
        guard !cookie.isEmpty, cookie.count < 100 else { return }
        try await sessions.deleteConsoleSession(idHash: hasher.hash(cookie))
    }

    /// Deletes ended sessions in batches; returns how many.
    public func purge() async throws -> Int {
        var total = 0
        while true {
            let purged = try await sessions.purgeConsoleSessions(before: clock.now(), limit: Self.purgeBatch)
            total += purged
            if purged < Self.purgeBatch { return total }
        }
    }

    /// Whether a form's CSRF value is the session's (compared in constant time).
    public static func csrfMatches(_ sent: String?, _ session: ConsoleSession) -> Bool {
        guard let sent else { return false }
        let a = Array(sent.utf8)
        let b = Array(session.csrfToken.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
