import Foundation
import Hummingbird
import PatenCore

/// Incidents (surges of similar questions, answered as one) for staff, and similar solved questions for anyone who
/// may see the question.
public struct IncidentController: Sendable {
    let incidents: IncidentDesk

    /// Creates the controller.
    public init(incidents: IncidentDesk) {
        self.incidents = incidents
    }

    /// `POST /v1/incidents/{id}/updates` body.
    struct UpdateRequest: Decodable {
        var body: String
    }

    /// `POST /v1/incidents/{id}/resolve` body.
    struct ResolveRequest: Decodable {
        var body: String
        /// Whether the linked questions that are still open are resolved with the incident.
        var resolveQuestions: Bool?
    }

    /// `POST /v1/incidents/{id}/merge` body: the incident merged into this one.
    struct MergeRequest: Decodable {
        var incidentId: String
    }

    /// `POST /v1/incidents/{id}/questions` body.
    struct LinkRequest: Decodable {
        var questionId: String
    }

    /// Adds the routes to a group under `/v1`.
    public func addRoutes(to group: RouterGroup<PatenRequestContext>) {
        group.get("incidents") { request, context in
            let viewer = try context.requireIdentity()
            let page = try await incidents.list(
                state: try request.query("state", as: IncidentState.self),
                after: request.uri.queryParameters.get("cursor").map { String($0) },
                limit: try request.query("limit", default: 50), for: viewer
            )
            return IncidentListResource(
                incidents: page.incidents.map(IncidentResource.init), nextCursor: page.next
            )
        }
        group.get("incidents/{id}") { request, context in
            let viewer = try context.requireIdentity()
            let questionsAfter = try request.uri.queryParameters.get("questions_after").map { text in
                // A question id is never this long; the document says so with maxLength.
                guard text.unicodeScalars.count <= 200 else {
                    throw PatenError.malformed(
                        "invalid_cursor", "questions_after must be a question id from a previous page."
                    )
                }
                return String(text)
            }
            let detail = try await incidents.detail(
                id: try context.pathID(), questionsAfter: questionsAfter,
                questionsLimit: try request.query("questions_limit", default: 50), for: viewer
            )
            return IncidentDetailResource(detail)
        }
        group.post("incidents/{id}/updates") { request, context in
            let viewer = try context.requireIdentity()
            var request = request
            let body = try await request.decodeJSON(UpdateRequest.self)
            let summary = try await incidents.postUpdate(id: try context.pathID(), body: body.body, by: viewer)
            return EditedResponse(status: .created, response: IncidentResource(summary))
        }
        group.post("incidents/{id}/resolve") { request, context in
            let viewer = try context.requireIdentity()
            var request = request
            let body = try await request.decodeJSON(ResolveRequest.self)
            return IncidentResource(
                try await incidents.resolve(
                    id: try context.pathID(), body: body.body, resolveQuestions: body.resolveQuestions ?? false,
                    by: viewer
                )
            )
        }
        group.post("incidents/{id}/merge") { request, context in
            let viewer = try context.requireIdentity()
            var request = request
            let body = try await request.decodeJSON(MergeRequest.self)
            return IncidentResource(
                try await incidents.merge(id: try context.pathID(), from: body.incidentId, by: viewer)
            )
        }
        group.post("incidents/{id}/questions") { request, context in
            let viewer = try context.requireIdentity()
            var request = request
            let body = try await request.decodeJSON(LinkRequest.self)
            return IncidentResource(
                try await incidents.link(id: try context.pathID(), questionId: body.questionId, by: viewer)
            )
        }
        group.delete("incidents/{id}/questions/{question_id}") { _, context in
            let viewer = try context.requireIdentity()
            return IncidentResource(
                try await incidents.unlink(
                    id: try context.pathID(), questionId: try context.parameters.require("question_id"), by: viewer
                )
            )
        }
        group.get("questions/{id}/similar") { _, context in
            let viewer = try context.require(.volunteer, .staff, .admin)
            return SimilarListResource(
                similar: try await incidents.similar(to: try context.pathID(), for: viewer).map(SimilarResource.init)
            )
        }
    }
}

/// An incident update in responses.
public struct IncidentUpdateResource: ResponseCodable, Sendable, Equatable {
    public var id: String
    public var kind: IncidentUpdate.Kind
    public var body: String
    public var createdBy: String
    public var createdAt: Date

    /// Creates the resource.
    public init(_ update: IncidentUpdate) {
        id = update.id
        kind = update.kind
        body = update.body
        createdBy = update.createdBy
        createdAt = update.createdAt
    }
}

/// An incident in responses: what opened it, and what its questions say now.
public struct IncidentResource: ResponseCodable, Sendable, Equatable {
    public var id: String
    public var state: IncidentState
    public var title: String
    public var topTerms: [String]
    /// Questions of the group in the window when it opened, against the expected count.
    public var observed: Int
    public var expected: Double
    public var probability: Double
    public var windowSeconds: Int
    public var questionCount: Int
    public var openQuestions: Int
    public var topics: [String: Int]
    public var languages: [String: Int]
    public var firstSeenAt: Date?
    public var lastSeenAt: Date?
    public var sampleQuestionIds: [String]
    public var anchorQuestionId: String
    public var openedAt: Date
    public var resolvedAt: Date?
    public var resolvedBy: String?
    public var mergedInto: String?
    public var updatedAt: Date
    public var latestUpdate: IncidentUpdateResource?

    /// Creates the resource.
    public init(_ summary: IncidentSummary) {
        let incident = summary.incident
        id = incident.id
        state = incident.state
        title = incident.title
        topTerms = incident.topTerms
        observed = incident.observed
        expected = (incident.expected * 1000).rounded() / 1000
        probability = incident.probability
        windowSeconds = Int(incident.window)
        questionCount = summary.questionCount
        openQuestions = summary.openQuestions
        topics = summary.topics
        languages = summary.languages
        firstSeenAt = summary.firstSeenAt
        lastSeenAt = summary.lastSeenAt
        sampleQuestionIds = summary.sampleQuestionIds
        anchorQuestionId = incident.anchorQuestionId
        openedAt = incident.openedAt
        resolvedAt = incident.resolvedAt
        resolvedBy = incident.resolvedBy
        mergedInto = incident.mergedInto
        updatedAt = incident.updatedAt
        latestUpdate = summary.latestUpdate.map(IncidentUpdateResource.init)
    }
}

/// A page of incidents.
public struct IncidentListResource: ResponseCodable, Sendable, Equatable {
    public var incidents: [IncidentResource]
    /// Pass as `cursor` for the next page; absent on the last page.
    public var nextCursor: String?
}

/// A linked question in an incident's detail.
public struct IncidentQuestionResource: ResponseCodable, Sendable, Equatable {
    public var id: String
    public var subject: String
    public var state: QuestionState
    public var tier: Tier
    public var topic: String
    public var language: String
    public var createdAt: Date
    public var link: IncidentLinkKind
    public var linkedAt: Date
    public var linkedBy: String?

    /// Creates the resource.
    public init(_ entry: IncidentQuestion) {
        id = entry.question.id
        subject = entry.question.subject
        state = entry.question.state
        tier = entry.question.tier
        topic = entry.question.topic
        language = entry.question.language
        createdAt = entry.question.createdAt
        link = entry.link.kind
        linkedAt = entry.link.linkedAt
        linkedBy = entry.link.linkedBy
    }
}

/// An incident with its updates and a page of its questions.
public struct IncidentDetailResource: ResponseCodable, Sendable, Equatable {
    public var incident: IncidentResource
    public var updates: [IncidentUpdateResource]
    public var questions: [IncidentQuestionResource]
    /// Pass as `questions_after` for the next page of questions; absent on the last page.
    public var questionsNextCursor: String?

    /// Creates the resource.
    public init(_ detail: IncidentDetail) {
        incident = IncidentResource(detail.summary)
        updates = detail.updates.map(IncidentUpdateResource.init)
        questions = detail.questions.map(IncidentQuestionResource.init)
        questionsNextCursor = detail.questionsNext
    }
}

/// What a question's resource says about the incident it belongs to.
public struct IncidentBriefResource: ResponseCodable, Sendable, Equatable {
    public var id: String
    public var title: String
    public var state: IncidentState
    public var latestUpdate: IncidentUpdateResource?

    /// Creates the resource.
    public init(_ brief: IncidentBrief) {
        id = brief.id
        title = brief.title
        state = brief.state
        latestUpdate = brief.latestUpdate.map(IncidentUpdateResource.init)
    }
}

/// A similar solved question.
public struct SimilarResource: ResponseCodable, Sendable, Equatable {
    public struct SolvedQuestion: Codable, Sendable, Equatable {
        public var id: String
        public var subject: String
        public var topic: String
        public var language: String
        public var resolvedAt: Date?
    }

    public struct Answer: Codable, Sendable, Equatable {
        public var id: String
        public var body: String
        public var helperHandle: String?
        public var createdAt: Date
    }

    public var question: SolvedQuestion
    /// The Jaccard index of the two questions' terms, from 0 to 1.
    public var similarity: Double
    public var answer: Answer?

    /// Creates the resource.
    public init(_ similar: SimilarQuestion) {
        question = SolvedQuestion(
            id: similar.question.id, subject: similar.question.subject, topic: similar.question.topic,
            language: similar.question.language, resolvedAt: similar.question.resolvedAt
        )
        similarity = similar.similarity
        answer = similar.answer.map {
            Answer(id: $0.id, body: $0.body, helperHandle: similar.answeredBy, createdAt: $0.createdAt)
        }
    }
}

/// Similar solved questions, most similar first.
public struct SimilarListResource: ResponseCodable, Sendable, Equatable {
    public var similar: [SimilarResource]
}
