import Foundation

/// What a submitter sends to open a question.
public struct QuestionSubmission: Sendable, Equatable {
    public var subject: String
    public var body: String
    public var customer: Customer
    public var topic: String?
    public var language: String?
    public var priority: String?

    /// Creates a submission.
    public init(
        subject: String, body: String, customer: Customer, topic: String? = nil, language: String? = nil,
        priority: String? = nil
    ) {
        self.subject = subject
        self.body = body
        self.customer = customer
        self.topic = topic
        self.language = language
        self.priority = priority
    }
}

/// The question side of Paten: intake, routing, queues, claims, replies and resolution, with role checks and
/// contact-data masking for volunteers. Storage rules are kept by the repository it is given.
public struct SupportDesk: Sendable {
    /// Longest subject, in Unicode code points (what JSON Schema's maxLength counts).
    public static let maxSubjectLength = 200
    /// Longest message, in bytes of UTF-8 (the HTTP layer refuses larger bodies before they get here).
    public static let maxMessageBytes = 60 * 1024

    /// Longest rating comment, in Unicode code points.
    public static let maxCommentLength = 2000
    /// Longest escalation note, in Unicode code points.
    public static let maxNoteLength = 2000

    public let policy: Policy
    private let questions: any QuestionRepository
    private let programme: (any ProgrammeRepository)?
    /// The customers' rating links.
    public let ratingLinks: RatingLinks
    private let clock: any Clock
    private let ids: any IdentifierGenerator
    private let classifier: IntakeClassifier
    private let planner: SLAPlanner
    private let volunteerView = VolunteerView()
    private let stopWords: StopWords

    /// The desk's clock's time now (for pages that say whether something has expired).
    public func now() -> Date { clock.now() }

    /// The hash a rating token is stored by; nil for text that cannot be a rating token (never looked up).
    public func ratingTokenHash(_ token: String) -> String? {
        guard token.hasPrefix("rt_"), token.count < 200 else { return nil }
        return ratingLinks.hash(token: token)
    }

    /// Creates the desk over its repositories; `ratingLinks` issues the links customers rate through.
    public init(
        policy: Policy, questions: any QuestionRepository, programme: (any ProgrammeRepository)? = nil,
        ratingLinks: RatingLinks, clock: any Clock, ids: any IdentifierGenerator
    ) {
        self.policy = policy
        self.questions = questions
        self.programme = programme ?? (questions as? any ProgrammeRepository)
        self.ratingLinks = ratingLinks
        self.clock = clock
        self.ids = ids
        self.classifier = IntakeClassifier(policy: policy)
        self.planner = SLAPlanner(policy: policy)
        self.stopWords = StopWords(languages: policy.languages, extra: policy.surge.stopWords)
    }

    /// The similarity signature of a question's subject and first message.
    public func signature(subject: String, body: String) -> SimilaritySignature {
        SimilaritySignature(text: subject + "\n" + body, stopWords: stopWords)
    }

    /// The context for a change made now.
    func context() -> ChangeContext {
        ChangeContext(now: clock.now(), planner: planner, ids: ids)
    }

    /// Takes in a new question: validates, classifies, routes and stores it with its timeline. An inbound
    /// webhook's `origin` is stored in the same transaction (a repeat is a `duplicate_webhook` conflict), and so is
    /// the mark on an `idempotency` reservation (see `IdempotencyReservation`).
    public func submit(
        _ submission: QuestionSubmission, by submitter: Helper, origin: InboundOrigin? = nil,
        idempotency: IdempotencyReservation? = nil
    ) async throws -> Question {
        guard submitter.role != .volunteer else {
            throw PatenError.forbidden(
                "role_cannot_submit", "Volunteers cannot submit questions; customers do, through an integration or staff."
            )
        }
        let subject = submission.subject.trimmingCharacters(in: .whitespacesAndNewlines)
        try Self.require(!subject.isEmpty, "subject_required", "Give the question a subject.")
        try Self.require(
            submission.subject.unicodeScalars.count <= Self.maxSubjectLength, "subject_too_long",
            "The subject has \(submission.subject.unicodeScalars.count) characters; keep it to \(Self.maxSubjectLength)."
        )
        let body = try Self.validMessage(submission.body)
        let customerId = submission.customer.id.trimmingCharacters(in: .whitespaces)
        try Self.require(
            customerId != Tombstone.text, "customer_id_reserved",
            "'\(Tombstone.text)' stands for erased customers (docs/privacy.md); give the customer's real id."
        )
        let customerName = submission.customer.name.trimmingCharacters(in: .whitespaces)
        try Self.require(
            !customerId.isEmpty && submission.customer.id.unicodeScalars.count <= 200, "customer_id_required",
            "Give customer.id: the customer's id in your system (1 to 200 characters)."
        )
        try Self.require(
            !customerName.isEmpty && submission.customer.name.unicodeScalars.count <= 200, "customer_name_required",
            "Give customer.name (1 to 200 characters)."
        )
        let classification = try classifier.classify(
            subject: subject, body: body, topic: submission.topic, language: submission.language,
            priority: submission.priority
        )
        let now = clock.now()
        let decision = classifier.route(classification, at: now)
        let question = Question(
            id: ids.make("q"), subject: subject, customer: Customer(id: customerId, name: customerName),
            channel: submitter.role == .integration ? submitter.id : "api", topic: classification.topic,
            language: classification.language, priority: classification.priority, tier: decision.tier, state: .open,
            peerDeadlineAt: decision.peerDeadline, createdBy: submitter.id, createdAt: now, updatedAt: now
        )
        let draft = QuestionDraft(
            question: question, body: body, routingReason: decision.reason.rawValue, origin: origin
        )
        let surge =
            policy.surge.enabled
            ? SurgeNeeds(
                signature: signature(subject: subject, body: body), policy: policy.surge, now: now,
                asker: SurgeRules.asker(question)
            ) : nil
        return try await questions.insertQuestion(
            draft, messageId: ids.make("m"), idempotency: idempotency, surge: surge, context: context()
        )
    }

    /// A question with a page of its messages and timeline, as the viewer may see it: volunteers get masked text
    /// and only the timeline facts meant for them; the customer's rating link only those entitled to it.
    public func detail(id: String, page: DetailPage = DetailPage(), for viewer: Helper) async throws -> QuestionDetail {
        for limit in [page.messageLimit, page.eventLimit] {
            try Self.require(
                (1...DetailPage.maxLimit).contains(limit), "invalid_limit",
                "Page limits must be from 1 to \(DetailPage.maxLimit).", kind: .malformed
            )
        }
        guard var detail = try await questions.questionDetail(id: id, page: page) else {
            throw PatenError.notFound("question", id: id)
        }
        try QuestionRules.checkView(detail.question, by: viewer)
        if viewer.role == .volunteer { return volunteerView.detail(detail) }
        detail.ratingUrl = ratingLinks.visibleURL(
            for: detail.question, grant: detail.ratingLink, viewer: viewer, at: clock.now()
        )
        return detail
    }

    /// A page of questions: everything for staff and admins, a volunteer's own claims, an integration's own.
    public func list(_ filter: QuestionFilter, for viewer: Helper) async throws -> QuestionPage {
        var filter = filter
        try Self.require(
            (1...200).contains(filter.limit), "invalid_limit", "limit must be from 1 to 200.", kind: .malformed
        )
        switch viewer.role {
        case .staff, .admin: break
        case .volunteer: filter.holderId = viewer.id
        case .integration: filter.channel = viewer.id
        }
        var page = try await questions.questions(matching: filter)
        if viewer.role == .volunteer { page.questions = page.questions.map(volunteerView.question) }
        return page
    }

    /// The questions the helper may claim now, best first. Volunteers see the volunteer tier (asking for the staff
    /// tier is 403); staff and admins see the staff tier unless they ask for the volunteer tier.
    public func queue(for helper: Helper, tier: Tier? = nil, limit: Int = 50) async throws -> [Question] {
        try Self.require((1...200).contains(limit), "invalid_limit", "limit must be from 1 to 200.", kind: .malformed)
        let tiers: [Tier]
        switch helper.role {
        case .integration:
            throw PatenError.forbidden("role_has_no_queue", "Integration accounts have no queue.")
        case .volunteer:
            if tier == .staff {
                throw PatenError.forbidden("staff_tier", "Volunteers cannot see the staff queue.")
            }
            tiers = [.volunteer]
        case .staff, .admin:
            tiers = [tier ?? .staff]
        }
        let now = clock.now()
        var locked: [String] = []
        if helper.role == .volunteer, let programme {
            let needs = ProgrammeRules.needs(
                .helper(helper.id), scope: ProgrammeRules.accessScope(policy.programme), context: context()
            )
            if let standing = try await programme.standing(helperId: helper.id, needs: needs, at: now) {
                // A paused volunteer, one in their quiet hours or at their week's budget is offered nothing.
                if standing.settings.pausedAt != nil
                    || ProgrammeRules.inQuietHours(
                        standing.settings, at: now, defaultZone: policy.businessHours.timeZone
                    )
                {
                    return []
                }
                let left = ProgrammeRules.budgetLeft(standing, programme: policy.programme)
                if left.claims == 0 || left.hours == 0 { return [] }
                locked = ProgrammeRules.lockedTopics(
                    for: standing, topics: policy.topics.map(\.name), programme: policy.programme
                )
            }
        }
        let page = try await questions.queue(
            for: helper, tiers: tiers, excludingTopics: locked, at: now, limit: limit
        )
        return helper.role == .volunteer ? page.map(volunteerView.question) : page
    }

    /// Claims a question for the helper under the policy's lease.
    public func claim(_ id: String, by helper: Helper) async throws -> Question {
        let question = try await questions.claim(
            questionId: id, by: helper, claimId: ids.make("c"), lease: policy.claimLease, context: context()
        )
        return view(question, for: helper)
    }

    /// Ends the claim on a question.
    public func release(_ id: String, by actor: Helper) async throws -> Question {
        view(try await questions.release(questionId: id, by: actor, context: context()), for: actor)
    }

    /// Records a helper's reply; the first one stops the first-response clock.
    public func reply(to id: String, body: String, by helper: Helper) async throws -> (Question, Message) {
        let text = try Self.validMessage(body)
        let (question, message) = try await questions.reply(
            questionId: id, by: helper, messageId: ids.make("m"), body: text, lease: policy.claimLease,
            context: context()
        )
        return (view(question, for: helper), message)
    }

    /// Records a customer's follow-up, sent by the integration the question came from (through the API or an
    /// inbound webhook, whose `origin` is stored in the same transaction, as is the mark on an `idempotency`
    /// reservation).
    public func addCustomerMessage(
        to id: String, body: String, by actor: Helper, origin: InboundOrigin? = nil,
        idempotency: IdempotencyReservation? = nil
    ) async throws -> (Question, Message) {
        let text = try Self.validMessage(body)
        return try await questions.addCustomerMessage(
            questionId: id, by: actor, messageId: ids.make("m"), body: text, origin: origin,
            routing: classifier.followUp(text), idempotency: idempotency, context: context()
        )
    }

    /// Resolves a question and, unless it was rated before, issues a single-use rating link (sent only to the
    /// integration the question came from; see `RatingLinks`). `note` says why; it is required when nobody has
    /// answered (only staff and admins may resolve then).
    public func resolve(
        _ id: String, note: String? = nil, answerId: String? = nil, by actor: Helper
    ) async throws -> Question {
        // The limit is on the text as sent, as the API document's maxLength says; blanks at the ends are dropped after.
        let text = note?.trimmingCharacters(in: .whitespacesAndNewlines)
        try Self.require(
            (note?.unicodeScalars.count ?? 0) <= Self.maxNoteLength, "note_too_long",
            "The note has \(note?.unicodeScalars.count ?? 0) characters; keep it to \(Self.maxNoteLength)."
        )
        let context = context()
        let grant = ratingLinks.grant(questionId: id, at: context.now)
        let question = try await questions.resolve(
            questionId: id, by: actor, note: text?.isEmpty == true ? nil : text, answerId: answerId, rating: grant,
            context: context
        )
        return view(question, for: actor)
    }

    /// Reopens a resolved question.
    public func reopen(_ id: String, by actor: Helper) async throws -> Question {
        view(try await questions.reopen(questionId: id, by: actor, context: context()), for: actor)
    }

    /// Hands a question to staff: a volunteer's handoff (level 1) or a staff member's manual escalation (level 1
    /// or 2). The note says what was tried and what the customer needs.
    public func escalate(_ id: String, note: String, level: Int?, by actor: Helper) async throws -> Escalation {
        let text = note.trimmingCharacters(in: .whitespacesAndNewlines)
        try Self.require(
            !text.isEmpty && note.unicodeScalars.count <= Self.maxNoteLength, "note_required",
            "Write a note (1 to \(Self.maxNoteLength) characters) saying what was tried and what the customer needs."
        )
        let chosen = level ?? 1
        try Self.require(
            actor.role == .volunteer ? chosen == 1 : (1...2).contains(chosen), "invalid_level",
            actor.role == .volunteer ? "Volunteers hand off at level 1." : "level must be 1 (staff queue) or 2 (staff lead)."
        )
        var escalation = try await questions.escalate(questionId: id, by: actor, level: chosen, note: text, context: context())
        if actor.role == .volunteer { escalation.questionSubject = volunteerView.text(escalation.questionSubject) }
        return escalation
    }

    /// Records a customer's rating from a rating link, with whether the answer solved the problem. A rating that
    /// pauses the credited volunteer puts the questions they hold back in the pool.
    public func rate(token: String, score: Int, comment: String?, solved: Bool? = nil) async throws -> Rating {
        try Self.require((1...5).contains(score), "invalid_score", "score must be a whole number from 1 to 5.")
        let text = comment?.trimmingCharacters(in: .whitespacesAndNewlines)
        try Self.require(
            (comment?.unicodeScalars.count ?? 0) <= Self.maxCommentLength, "comment_too_long",
            "The comment has \(comment?.unicodeScalars.count ?? 0) characters; keep it to \(Self.maxCommentLength)."
        )
        guard let tokenHash = ratingTokenHash(token) else {
            throw PatenError(.notFound, code: "rating_not_found", message: "This rating link is not valid.")
        }
        let (rating, paused) = try await questions.rate(
            tokenHash: tokenHash, score: score, comment: text?.isEmpty == true ? nil : text,
            solved: solved, context: context()
        )
        if let paused {
            // The rating and the pause are stored: a failure here must not tell the customer otherwise. A question
            // left held is refused to its paused holder anyway and returns to the pool when its lease runs out.
            try? await returnHeldQuestions(of: paused)
        }
        return rating
    }

    /// Puts every question a paused volunteer holds back in the pool, each in a change of its own (the pause itself
    /// is already stored, so a crash between them leaves only leases that run out as usual).
    public func returnHeldQuestions(of helperId: String) async throws {
        var filter = QuestionFilter()
        filter.holderId = helperId
        filter.limit = 200
        for question in try await questions.questions(matching: filter).questions {
            try await questions.returnToPool(questionId: question.id, from: helperId, context: context())
        }
    }

    /// Ends claims whose lease ran out; returns how many.
    public func expireLeases(limit: Int = 500) async throws -> Int {
        try await questions.expireLeases(context: context(), limit: limit)
    }

    /// Acts on the clocks that are due (up to `limit`): the escalation engine's one pass.
    public func sweep(limit: Int = 500) async throws -> SweepOutcome {
        try await questions.sweep(context: context(), limit: limit)
    }

    private func view(_ question: Question, for viewer: Helper) -> Question {
        viewer.role == .volunteer ? volunteerView.question(question) : question
    }

    private static func validMessage(_ body: String) throws -> String {
        let text = body.trimmingCharacters(in: .whitespacesAndNewlines)
        try require(!text.isEmpty, "body_required", "The message body is empty; write something.")
        try require(
            text.utf8.count <= maxMessageBytes, "body_too_long",
            "The message has \(text.utf8.count) bytes; keep it to \(maxMessageBytes).", kind: .tooLarge
        )
        return text
    }

    static func require(
        _ condition: Bool, _ code: String, _ message: String, kind: PatenError.Kind = .unprocessable
    ) throws {
        if !condition { throw PatenError(kind, code: code, message: message) }
    }
}
