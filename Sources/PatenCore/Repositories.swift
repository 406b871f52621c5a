import Foundation

/// Stores helper accounts.
public protocol HelperRepository: Sendable {
    /// Stores a new helper; a taken handle is a `handle_taken` conflict.
    func insertHelper(_ helper: Helper) async throws
    /// The helper with the id, if any.
    func helper(id: String) async throws -> Helper?
    /// The helper with the handle, if any.
    func helper(handle: String) async throws -> Helper?
    /// Every helper, optionally of one role, ordered by handle.
    func helpers(role: Role?) async throws -> [Helper]
    /// Applies a change to a helper and returns it as stored; a change that would leave no active admin is refused
    /// (`HelperDirectory.requireAdminRemains`) inside the same transaction.
    func updateHelper(id: String, change: HelperChange, at now: Date) async throws -> Helper
    /// How many accounts exist.
    func helperCount() async throws -> Int
}

/// Stores bearer tokens by hash.
public protocol TokenRepository: Sendable {
    /// Stores a new token under the hash of its secret.
    func insertToken(_ token: AccessToken, secretHash: String) async throws
    /// The active helper and unrevoked token for a secret's hash, noting the use.
    func authenticate(secretHash: String, at now: Date) async throws -> (helper: Helper, token: AccessToken)?
    /// Tokens, all or one helper's, newest first.
    func tokens(helperId: String?) async throws -> [AccessToken]
    /// The token with the id, if any.
    func token(id: String) async throws -> AccessToken?
    /// Marks a token revoked and returns it.
    func revokeToken(id: String, at now: Date) async throws -> AccessToken
}

/// Filters for listing questions.
public struct QuestionFilter: Sendable, Equatable {
    public var state: QuestionState?
    public var tier: Tier?
    public var topic: String?
    public var holderId: String?
    public var channel: String?
    /// Page size, 1 to 200.
    public var limit: Int
    /// Where the previous page ended.
    public var after: QuestionCursor?

    /// Creates a filter.
    public init(
        state: QuestionState? = nil, tier: Tier? = nil, topic: String? = nil, holderId: String? = nil,
        channel: String? = nil, limit: Int = 50, after: QuestionCursor? = nil
    ) {
        self.state = state
        self.tier = tier
        self.topic = topic
        self.holderId = holderId
        self.channel = channel
        self.limit = limit
        self.after = after
    }
}

/// One page of questions, newest first.
public struct QuestionPage: Sendable, Equatable {
    public var questions: [Question]
    /// The cursor for the next page, nil on the last page.
    public var next: QuestionCursor?

    /// Creates a page.
    public init(questions: [Question], next: QuestionCursor?) {
        self.questions = questions
        self.next = next
    }
}

/// Stores questions, their messages, claims, clocks, escalations and timelines. Every method that changes state
/// writes the change and its timeline events in one transaction, and checks the rules of `QuestionRules` inside it.
public protocol QuestionRepository: Sendable {
    /// Stores a new question with its first message, its created and routed events, its clocks, (when critical)
    /// its `critical_intake` escalation, and (from an inbound webhook) its receipt and conversation; a repeated
    /// webhook id is a `duplicate_webhook` conflict, a conversation taken meanwhile `conversation_exists`. Under an
    /// `idempotency` reservation the question is marked on it in the same transaction (`IdempotencyReservation`).
    func insertQuestion(
        _ draft: QuestionDraft, messageId: String, idempotency: IdempotencyReservation?, context: ChangeContext
    ) async throws -> Question
    /// The question with the id, if any.
    func question(id: String) async throws -> Question?
    /// The question with a page of its messages and timeline, the handles they name, and its rating link's facts.
    func questionDetail(id: String, page: DetailPage) async throws -> QuestionDetail?
    /// A page of questions matching the filter, newest first.
    func questions(matching filter: QuestionFilter) async throws -> QuestionPage
    /// Up to `limit` questions of the tiers that the helper could claim at the time (open, or held under a lease
    /// that ran out), best first: one point each for a topic in the helper's skills and a language they speak,
    /// then higher priority, then longest waiting.
    func queue(for helper: Helper, tiers: [Tier], at now: Date, limit: Int) async throws -> [Question]
    /// Gives the question to the helper under a lease, if the rules allow; of concurrent claims one wins.
    func claim(
        questionId: String, by helper: Helper, claimId: String, lease: TimeInterval, context: ChangeContext
    )
        async throws -> Question
    /// Ends the current claim and puts the question back in the pool.
    func release(questionId: String, by actor: Helper, context: ChangeContext) async throws -> Question
    /// Records a helper reply, renewing the replier's lease and meeting the response clocks.
    func reply(
        questionId: String, by helper: Helper, messageId: String, body: String, lease: TimeInterval,
        context: ChangeContext
    ) async throws -> (question: Question, message: Message)
    /// Records a customer follow-up, starting the next-response clock; a resolved question is reopened by it. An
    /// inbound webhook's receipt is stored with it; a repeated webhook id is a `duplicate_webhook` conflict. The
    /// follow-up rate (`QuestionRules.checkFollowUpRate`) is checked in the same transaction.
    /// `routing` (from the follow-up's text) moves a volunteer-tier question to staff, and a critical one escalates.
    /// Under an `idempotency` reservation the message is marked on it in the same transaction.
    func addCustomerMessage(
        questionId: String, by actor: Helper, messageId: String, body: String, origin: InboundOrigin?,
        routing: FollowUpRouting, idempotency: IdempotencyReservation?, context: ChangeContext
    ) async throws -> (question: Question, message: Message)
    /// Marks the question resolved, ends any claim and clock, and issues the rating link unless already rated;
    /// `note` (why it was resolved) goes into the resolved event.
    func resolve(
        questionId: String, by actor: Helper, note: String?, rating: RatingGrant?, context: ChangeContext
    ) async throws
        -> Question
    /// Puts a resolved question back in the pool.
    func reopen(questionId: String, by actor: Helper, context: ChangeContext) async throws -> Question
    /// Hands the question to staff: a volunteer's handoff or a staff member's manual escalation.
    func escalate(
        questionId: String, by actor: Helper, level: Int, note: String, context: ChangeContext
    )
        async throws -> Escalation
    /// Ends up to `limit` claims whose lease ran out, returning how many it ended.
    func expireLeases(context: ChangeContext, limit: Int) async throws -> Int
    /// Acts on up to `limit` clocks that are due: moves questions to staff, raises warnings and breaches.
    func sweep(context: ChangeContext, limit: Int) async throws -> SweepOutcome
    /// Whether the store is reachable and fully migrated.
    func isReady() async throws -> Bool
}

/// Stores escalations and their change feed.
public protocol EscalationRepository: Sendable {
    /// Escalations matching the filter, newest first.
    func escalations(matching filter: EscalationFilter, at now: Date) async throws -> [Escalation]
    /// The escalation with the id, if any.
    func escalation(id: String) async throws -> Escalation?
    /// Marks an open escalation acknowledged.
    func acknowledgeEscalation(id: String, by actor: Helper, at now: Date) async throws -> Escalation
    /// Marks an escalation resolved.
    func resolveEscalation(id: String, by actor: Helper, at now: Date) async throws -> Escalation
    /// Changes after the given sequence number, oldest first.
    func escalationChanges(after sequence: Int64, limit: Int) async throws -> [EscalationChange]
    /// The sequence number of the latest change (0 when none).
    func latestEscalationChange() async throws -> Int64
    /// Open and acknowledged escalations by level.
    func unresolvedEscalationCounts() async throws -> [Int: Int]
}

/// Stores ratings.
public protocol RatingRepository: Sendable {
    /// Records the score for the question whose unexpired, unused link has the token hash; a low score escalates.
    func rate(tokenHash: String, score: Int, comment: String?, context: ChangeContext) async throws -> Rating
}

/// Everything Paten keeps, in one database: the embedded SQLite file, or PostgreSQL shared by several instances.
/// Both implement every repository with the same behaviour; the contract tests run on both.
public protocol PatenStore: HelperRepository, TokenRepository, QuestionRepository, EscalationRepository,
    RatingRepository, MetricsRepository, IntegrationRepository, OutboxRepository, IdempotencyRepository
{
    /// Where the data is, for messages: the file, or the URL without its password.
    var location: String { get }
    /// Migration ids this build carries that the database has not applied.
    func pendingMigrations() async throws -> [String]
    /// Fills the database with `count` open volunteer-tier questions for benchmarks, `dueCount` of them with a peer
    /// window that ran out at `now` and the rest due a day later. Rows are written directly (no events). Returns
    /// the number written.
    func seedOpenQuestions(count: Int, dueCount: Int, createdBy: String, at now: Date) async throws -> Int
    /// Runs a read-only statement returning one integer, with `?` for each value; for tests and diagnostics.
    func count(_ sql: String, _ values: [String]) async throws -> Int
}

extension PatenStore {
    /// Runs a read-only statement without values that returns one integer.
    public func count(_ sql: String) async throws -> Int { try await count(sql, []) }
}
