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

/// Stores questions, their messages, claims, clocks, escalations and timelines. Every change goes through
/// `QuestionChangeStore`: the commands (`claim`, `reply`, `resolve`, the sweep, ...) are decided by
/// `QuestionCommands` and applied in one transaction with their timeline events.
public protocol QuestionRepository: QuestionChangeStore {
    /// The question with the id, if any.
    func question(id: String) async throws -> Question?
    /// The question with a page of its messages and timeline, the handles they name, and its rating link's facts.
    func questionDetail(id: String, page: DetailPage) async throws -> QuestionDetail?
    /// A page of questions matching the filter, newest first.
    func questions(matching filter: QuestionFilter) async throws -> QuestionPage
    /// Up to `limit` questions of the tiers that the helper could claim at the time (open, or held under a lease
    /// that ran out), best first: one point each for a topic in the helper's skills and a language they speak,
    /// then higher priority, then longest waiting.
    func queue(
        for helper: Helper, tiers: [Tier], excludingTopics: [String], at now: Date, limit: Int
    ) async throws -> [Question]
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

/// The volunteer programme's storage besides question changes (which book points with the change that earns them).
public protocol ProgrammeRepository: Sendable {
    /// The helper's standing as `needs` counts it (no question: `onQuestion` empty); nil for an unknown helper.
    func standing(helperId: String, needs: StandingNeeds, at now: Date) async throws -> HelperStanding?
    /// Changes a helper's programme settings (quiet hours, time zone, weekly budget) in one transaction.
    func updateProgrammeSettings(
        helperId: String, at now: Date, _ change: @escaping @Sendable (inout ProgrammeSettings) throws -> Void
    ) async throws -> ProgrammeSettings
    /// Grants (true) or revokes (false) a topic for a helper, or returns it to the policy (nil).
    func setTopicAccess(helperId: String, topic: String, granted: Bool?, by actor: String, at now: Date) async throws
    /// Resumes a paused helper with staff's note; `not_paused` when they are not paused.
    func resumeHelper(id: String, by actor: String, note: String, at now: Date) async throws
    /// Ledger rows after the cursor, oldest first, for a helper or everyone, booked in [from, to).
    func ledger(helperId: String?, from: Date?, to: Date?, after: Int64, limit: Int) async throws -> [LedgerRow]
    /// Points earned since a time (payouts left out), best first, volunteers only; in a topic when named.
    func leaderboard(since: Date?, topic: String?, limit: Int) async throws -> [LeaderboardEntry]
    /// Books a payout for the period ending at `periodEnd` (see `ProgrammeReports`): one batch per period end, in one
    /// transaction that no other instance books at the same time. Returns the existing batch, unchanged, for a period
    /// already booked (`created` false); a period end before the latest booked one is `payout_period_overlaps`.
    func createPayout(
        id: String, periodEnd: Date, by actor: String, programme: Programme, at now: Date
    ) async throws -> (payout: Payout, created: Bool)
    /// A payout batch with its lines.
    func payout(id: String) async throws -> Payout?
    /// Points a helper earned (payouts left out) since a time, or in all.
    func earnedPoints(helperId: String, since: Date?) async throws -> Int
    /// The end of the latest booked payout period; nil before the first.
    func latestPayoutPeriodEnd() async throws -> Date?
    /// The value report's tallies by UTC month for [from, to).
    func programmeTallies(from: Date, to: Date) async throws -> [ProgrammeMonthTally]
    /// Active volunteers by level (nil: not yet recomputed) and how many are paused.
    func volunteerCounts() async throws -> (byLevel: [String?: Int], paused: Int)
}

/// Everything Paten keeps, in one database: the embedded SQLite file, or PostgreSQL shared by several instances.
/// Both implement every repository with the same behaviour; the contract tests run on both.
public protocol PatenStore: HelperRepository, TokenRepository, QuestionRepository, EscalationRepository,
    MetricsRepository, IntegrationRepository, OutboxRepository, IdempotencyRepository, ProgrammeRepository,
    IncidentRepository, ConsoleRepository, PrivacyRepository
{
    /// Where the data is, for messages: the file, or the URL without its password.
    var location: String { get }
    /// Migration ids this build carries that the database has not applied.
    func pendingMigrations() async throws -> [String]
}

/// What benchmarks, `paten dev` and tests ask of a store; not part of any desk's repository.
public protocol StoreDiagnostics: Sendable {
    /// Fills the database with `count` open volunteer-tier questions for benchmarks, `dueCount` of them with a peer
    /// window that ran out at `now` and the rest due a day later. Ids sort in creation order, as time-ordered ids do.
    /// The due ones are the oldest, as in a running system (peer windows run out in the order questions came); with
    /// `spread`, every n-th question instead (the worst case: each due question on pages of its own). Rows are
    /// written directly (no events). Returns the number written.
    func seedOpenQuestions(count: Int, dueCount: Int, spread: Bool, createdBy: String, at now: Date) async throws -> Int
    /// Runs a read-only statement returning one integer, with `?` for each value; for tests and diagnostics.
    func count(_ sql: String, _ values: [String]) async throws -> Int
}

extension StoreDiagnostics {
    /// Runs a read-only statement without values that returns one integer.
    public func count(_ sql: String) async throws -> Int { try await count(sql, []) }
}

/// A solved question like another one, with the answer it was credited with.
public struct SimilarQuestion: Sendable, Equatable {
    public var question: Question
    /// The Jaccard index of the two questions' terms.
    public var similarity: Double
    /// The credited answer, if it is still there.
    public var answer: Message?
    /// The answer's author's handle.
    public var answeredBy: String?

    /// Creates an entry.
    public init(question: Question, similarity: Double, answer: Message?, answeredBy: String?) {
        self.question = question
        self.similarity = similarity
        self.answer = answer
        self.answeredBy = answeredBy
    }
}

/// Stores incidents, their links and updates, and the signatures similar questions are found by.
public protocol IncidentRepository: Sendable {
    /// Loads the incident (an unknown one is `not_found`) with what `needs` names, under its lock (on PostgreSQL
    /// the incident's row, then the linked or named questions' rows in id order), and applies what `decide` makes of
    /// it in one transaction; returns the incident as it ends up.
    func applyIncident(
        id: String, needs: IncidentNeeds, at now: Date,
        _ decide: @escaping @Sendable (IncidentSnapshot) throws -> IncidentChange
    ) async throws -> IncidentSummary
    /// The incident with its counts, if any.
    func incident(id: String) async throws -> IncidentSummary?
    /// Incidents newest first, of one state or all, after a cursor (`IncidentPage.next`).
    func incidents(state: IncidentState?, after cursor: String?, limit: Int) async throws -> IncidentPage
    /// The incident's updates, oldest first.
    func incidentUpdates(id: String, limit: Int) async throws -> [IncidentUpdate]
    /// A page of the incident's questions, in the order they were asked, after a question id.
    func incidentQuestions(id: String, after questionId: String?, limit: Int) async throws -> [IncidentQuestion]
    /// The incidents these questions belong to, by question id.
    func incidentBriefs(questionIds: [String]) async throws -> [String: IncidentBrief]
    /// The question's stored signature, if it has one.
    func signature(questionId: String) async throws -> SimilaritySignature?
    /// Up to `limit` resolved questions with a credited answer sharing a band with these, most bands shared first:
    /// their ids and terms.
    func solvedCandidates(
        bands: [Int64], excluding questionId: String, limit: Int
    ) async throws
        -> [(id: String, terms: [String])]
    /// The questions with their credited answers and the answers' authors' handles.
    func solvedAnswers(questionIds: [String]) async throws -> [String: (Question, Message?, String?)]
    /// Deletes up to `limit` signatures (and their bands) kept until before `now`; returns how many.
    func purgeSignatures(at now: Date, limit: Int) async throws -> Int
}

/// A page of incidents.
public struct IncidentPage: Sendable, Equatable {
    public var incidents: [IncidentSummary]
    /// Where the next page starts, when there is one.
    public var next: String?

    /// Creates a page.
    public init(incidents: [IncidentSummary], next: String?) {
        self.incidents = incidents
        self.next = next
    }
}
