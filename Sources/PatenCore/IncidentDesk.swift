import Foundation

/// An incident with a page of its questions and its updates.
public struct IncidentDetail: Sendable, Equatable {
    public var summary: IncidentSummary
    public var updates: [IncidentUpdate]
    public var questions: [IncidentQuestion]
    /// Pass as `questions_after` for the next page of questions; nil on the last page.
    public var questionsNext: String?

    /// Creates a detail.
    public init(summary: IncidentSummary, updates: [IncidentUpdate], questions: [IncidentQuestion], questionsNext: String?) {
        self.summary = summary
        self.updates = updates
        self.questions = questions
        self.questionsNext = questionsNext
    }
}

/// Incidents for staff (list, detail, updates, links, merges, resolution), what volunteers see of them, and similar
/// solved questions. The rules are `IncidentCommands`'; the store loads and applies.
public struct IncidentDesk: Sendable {
    /// Most updates an incident's detail shows (the latest).
    public static let maxUpdates = 100
    /// Most similar solved questions offered.
    public static let maxSimilar = 5
    /// Candidates compared exactly for similar solved questions (the most bands shared first).
    public static let similarCandidates = 50

    public let policy: Policy
    private let incidents: any IncidentRepository
    private let questions: any QuestionRepository
    private let ratingLinks: RatingLinks
    private let clock: any Clock
    private let ids: any IdentifierGenerator
    private let planner: SLAPlanner
    private let stopWords: StopWords
    private let volunteerView = VolunteerView()

    /// Creates the desk.
    public init(
        policy: Policy, incidents: any IncidentRepository, questions: any QuestionRepository, ratingLinks: RatingLinks,
        clock: any Clock, ids: any IdentifierGenerator
    ) {
        self.policy = policy
        self.incidents = incidents
        self.questions = questions
        self.ratingLinks = ratingLinks
        self.clock = clock
        self.ids = ids
        self.planner = SLAPlanner(policy: policy)
        self.stopWords = StopWords(languages: policy.languages, extra: policy.surge.stopWords)
    }

    func context() -> ChangeContext { ChangeContext(now: clock.now(), planner: planner, ids: ids) }

    static func requireStaff(_ viewer: Helper) throws {
        guard viewer.role.isStaffOrAdmin else {
            throw PatenError.forbidden("staff_only", "Incidents are for staff and admins.")
        }
    }

    /// A page of incidents, newest first.
    public func list(
        state: IncidentState?, after cursor: String?, limit: Int, for viewer: Helper
    ) async throws
        -> IncidentPage
    {
        try Self.requireStaff(viewer)
        try SupportDesk.require((1...100).contains(limit), "invalid_limit", "limit must be from 1 to 100.", kind: .malformed)
        return try await incidents.incidents(state: state, after: cursor, limit: limit)
    }

    /// The incident with its updates and a page of its questions.
    public func detail(
        id: String, questionsAfter: String?, questionsLimit: Int, for viewer: Helper
    ) async throws
        -> IncidentDetail
    {
        try Self.requireStaff(viewer)
        try SupportDesk.require(
            (1...200).contains(questionsLimit), "invalid_limit", "questions_limit must be from 1 to 200.", kind: .malformed
        )
        guard let summary = try await incidents.incident(id: id) else { throw PatenError.notFound("incident", id: id) }
        let page = try await incidents.incidentQuestions(id: id, after: questionsAfter, limit: questionsLimit + 1)
        let shown = Array(page.prefix(questionsLimit))
        return IncidentDetail(
            summary: summary, updates: try await incidents.incidentUpdates(id: id, limit: Self.maxUpdates),
            questions: shown, questionsNext: page.count > questionsLimit ? shown.last?.question.id : nil
        )
    }

    /// Posts an update to every linked customer.
    public func postUpdate(id: String, body: String, by actor: Helper) async throws -> IncidentSummary {
        try Self.requireStaff(actor)
        let text = try Self.validBody(body)
        let context = context()
        return try await incidents.applyIncident(
            id: id, needs: IncidentNeeds(questions: SnapshotNeeds()), at: context.now
        ) { snapshot in
            try IncidentCommands.postUpdate(snapshot, body: text, by: actor, context: context)
        }
    }

    /// Resolves the incident with a final message; with `resolveQuestions`, its open questions too.
    public func resolve(
        id: String, body: String, resolveQuestions: Bool, by actor: Helper
    ) async throws
        -> IncidentSummary
    {
        try Self.requireStaff(actor)
        let text = try Self.validBody(body)
        let context = context()
        let links = ratingLinks
        return try await incidents.applyIncident(
            id: id, needs: IncidentNeeds(questions: SnapshotNeeds(resolution: resolveQuestions)), at: context.now
        ) { snapshot in
            try IncidentCommands.resolve(
                snapshot, body: text, resolveQuestions: resolveQuestions, by: actor,
                rating: { links.grant(questionId: $0, at: context.now) }, context: context
            )
        }
    }

    /// Links a question by hand.
    public func link(id: String, questionId: String, by actor: Helper) async throws -> IncidentSummary {
        try Self.requireStaff(actor)
        let context = context()
        return try await incidents.applyIncident(id: id, needs: IncidentNeeds(target: questionId), at: context.now) {
            try IncidentCommands.link($0, by: actor, context: context)
        }
    }

    /// Unlinks a question.
    public func unlink(id: String, questionId: String, by actor: Helper) async throws -> IncidentSummary {
        try Self.requireStaff(actor)
        let context = context()
        return try await incidents.applyIncident(id: id, needs: IncidentNeeds(target: questionId), at: context.now) {
            try IncidentCommands.unlink($0, by: actor, context: context)
        }
    }

    /// Merges `other` into the incident.
    public func merge(id: String, from other: String, by actor: Helper) async throws -> IncidentSummary {
        try Self.requireStaff(actor)
        let context = context()
        return try await incidents.applyIncident(id: id, needs: IncidentNeeds(other: other), at: context.now) {
            try IncidentCommands.merge($0, by: actor, context: context)
        }
    }

    /// The incidents these questions belong to, as the viewer may see them (titles and updates masked for
    /// volunteers, like every text they are shown).
    public func briefs(questionIds: [String], for viewer: Helper) async throws -> [String: IncidentBrief] {
        var briefs = try await incidents.incidentBriefs(questionIds: questionIds)
        if viewer.role == .volunteer {
            for (id, var brief) in briefs {
                brief.title = volunteerView.text(brief.title)
                if var update = brief.latestUpdate {
                    update.body = volunteerView.text(update.body)
                    brief.latestUpdate = update
                }
                briefs[id] = brief
            }
        }
        return briefs
    }

    /// Up to five resolved questions most like this one, with their credited answers: from its stored signature,
    /// or one made from its subject and first message when it has none.
    public func similar(to questionId: String, for viewer: Helper) async throws -> [SimilarQuestion] {
        let page = DetailPage(messageLimit: 1, eventLimit: 1)
        guard let detail = try await questions.questionDetail(id: questionId, page: page) else {
            throw PatenError.notFound("question", id: questionId)
        }
        try QuestionRules.checkView(detail.question, by: viewer)
        var signature = try await incidents.signature(questionId: questionId)
        if signature == nil {
            let body = detail.messages.first(where: { $0.authorKind == .customer })?.body ?? ""
            signature = SimilaritySignature(text: detail.question.subject + "\n" + body, stopWords: stopWords)
        }
        guard let signature, !signature.isEmpty else { return [] }
        let candidates = try await incidents.solvedCandidates(
            bands: signature.bands, excluding: questionId, limit: Self.similarCandidates
        )
        var ranked: [(id: String, similarity: Double)] = []
        for candidate in candidates {
            let similarity = signature.jaccard(candidate.terms)
            if similarity >= policy.surge.similarMinimum { ranked.append((candidate.id, similarity)) }
        }
        ranked.sort { $0.similarity != $1.similarity ? $0.similarity > $1.similarity : $0.id > $1.id }
        // A few more than shown: a volunteer's list leaves out what they may not open.
        ranked = Array(ranked.prefix(Self.maxSimilar * 3))
        let answers = try await incidents.solvedAnswers(questionIds: ranked.map { $0.id })
        let offered: [SimilarQuestion] = ranked.compactMap { entry in
            // A volunteer is offered only what they could open: never a staff-tier question (billing, fraud, ...).
            guard let (question, answer, handle) = answers[entry.id], (try? QuestionRules.checkView(question, by: viewer)) != nil
            else { return nil }
            var similar = SimilarQuestion(
                question: question, similarity: (entry.similarity * 1000).rounded() / 1000, answer: answer,
                answeredBy: handle
            )
            if viewer.role == .volunteer {
                similar.question = volunteerView.question(question)
                similar.answer?.body = volunteerView.text(answer?.body ?? "")
            }
            return similar
        }
        return Array(offered.prefix(Self.maxSimilar))
    }

    static func validBody(_ body: String) throws -> String {
        let text = body.trimmingCharacters(in: .whitespacesAndNewlines)
        try SupportDesk.require(
            !text.isEmpty, "body_required", "Write the message every customer of the incident gets; it is empty."
        )
        try SupportDesk.require(
            body.unicodeScalars.count <= IncidentCommands.maxBodyLength, "body_too_long",
            "The message has \(body.unicodeScalars.count) characters; keep it to \(IncidentCommands.maxBodyLength)."
        )
        return text
    }
}
