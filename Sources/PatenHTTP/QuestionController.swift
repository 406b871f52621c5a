import Foundation
import Hummingbird
import Metrics
import PatenCore

/// Questions: intake, listing, detail, the queue, and the claim, reply, release, resolve and reopen actions.
public struct QuestionController: Sendable {
    let desk: SupportDesk
    /// Makes intake and follow-ups safe to retry under an `Idempotency-Key`.
    let idempotency: IdempotentRequests
    /// Says which incident a question belongs to, in its detail and the queue.
    let incidents: IncidentDesk?

    /// Creates the controller over the desk and the idempotency keys.
    public init(desk: SupportDesk, idempotency: IdempotentRequests, incidents: IncidentDesk? = nil) {
        self.desk = desk
        self.idempotency = idempotency
        self.incidents = incidents
    }

    /// `POST /v1/questions` body.
    struct SubmitRequest: Decodable {
        var subject: String
        var body: String
        var customer: Customer
        var topic: String?
        var language: String?
        var priority: String?
    }

    /// `POST /v1/questions/{id}/resolve` body (optional): why it is resolved, required when nobody has answered.
    struct ResolveRequest: Decodable {
        var note: String?
        /// The helper reply that answered the question (credited); the latest helper reply when left out.
        var answerId: String?
    }

    /// `POST /v1/questions/{id}/replies` and `/messages` body.
    struct MessageRequest: Decodable {
        var body: String
    }

    /// Adds the routes to a group under `/v1`.
    public func addRoutes(to group: RouterGroup<PatenRequestContext>) {
        group.post("questions", use: submit)
        group.get("questions", use: list)
        group.get("questions/{id}", use: show)
        group.get("queue", use: queue)
        group.post("questions/{id}/claim") { _, context in
            QuestionResource(try await desk.claim(try context.pathID(), by: try context.requireIdentity()))
        }
        group.post("questions/{id}/release") { _, context in
            QuestionResource(try await desk.release(try context.pathID(), by: try context.requireIdentity()))
        }
        group.post("questions/{id}/resolve", use: resolve)
        group.post("questions/{id}/reopen") { _, context in
            QuestionResource(try await desk.reopen(try context.pathID(), by: try context.requireIdentity()))
        }
        group.post("questions/{id}/replies", use: reply)
        group.post("questions/{id}/messages", use: customerMessage)
    }

    @Sendable func submit(_ request: Request, context: PatenRequestContext) async throws -> Response {
        let submitter = try context.require(.integration, .staff, .admin)
        return try await idempotency.respond(
            to: request, context: context, account: submitter, route: "POST /v1/questions",
            rebuild: { written in EditedResponse(status: .created, response: QuestionResource(written.question)) }
        ) { request, reservation in
            var request = request
            let body = try await request.decodeJSON(SubmitRequest.self)
            let submission = QuestionSubmission(
                subject: body.subject, body: body.body, customer: body.customer, topic: body.topic,
                language: body.language, priority: body.priority
            )
            let question = try await desk.submit(submission, by: submitter, idempotency: reservation)
            return EditedResponse(status: .created, response: QuestionResource(question))
        }
    }

    @Sendable func list(_ request: Request, context: PatenRequestContext) async throws -> QuestionListResource {
        let viewer = try context.requireIdentity()
        let filter = QuestionFilter(
            state: try request.query("state", as: QuestionState.self),
            tier: try request.query("tier", as: Tier.self),
            topic: request.uri.queryParameters.get("topic").map { String($0) },
            limit: try request.query("limit", default: 50),
            after: try request.uri.queryParameters.get("cursor").map { try QuestionCursor(token: String($0)) }
        )
        let page = try await desk.list(filter, for: viewer)
        return QuestionListResource(questions: page.questions.map { QuestionResource($0) }, nextCursor: page.next?.token)
    }

    @Sendable func show(_ request: Request, context: PatenRequestContext) async throws -> QuestionDetailResource {
        let viewer = try context.requireIdentity()
        let eventsAfter = try request.uri.queryParameters.get("timeline_after").map { text in
            guard let sequence = Int64(text), sequence >= 0 else {
                throw PatenError.malformed(
                    "invalid_cursor", "timeline_after must be a timeline event's sequence number from a previous page."
                )
            }
            return sequence
        }
        let messagesAfter = try request.uri.queryParameters.get("messages_after").map { text in
            // A message id is never this long; the document says so with maxLength.
            guard text.unicodeScalars.count <= 200 else {
                throw PatenError.malformed("invalid_cursor", "messages_after must be a message id from a previous page.")
            }
            return String(text)
        }
        let page = DetailPage(
            messageLimit: try request.query("messages_limit", default: DetailPage.defaultLimit),
            messagesAfter: messagesAfter,
            eventLimit: try request.query("timeline_limit", default: DetailPage.defaultLimit), eventsAfter: eventsAfter
        )
        var resource = QuestionDetailResource(try await desk.detail(id: try context.pathID(), page: page, for: viewer))
        // Helpers see which incident a question belongs to; an integration (one channel) is not shown another
        // channel's customers' incident.
        if let incidents, viewer.role.answersQuestions {
            resource.question.incident = try await incidents.briefs(questionIds: [resource.question.id], for: viewer)[
                resource.question.id
            ].map(IncidentBriefResource.init)
        }
        return resource
    }

    @Sendable func resolve(_ request: Request, context: PatenRequestContext) async throws -> QuestionResource {
        let actor = try context.requireIdentity()
        var request = request
        // The body is optional: an empty one resolves without a note.
        let body = try await request.decodeOptionalJSON(ResolveRequest.self)
        return QuestionResource(
            try await desk.resolve(try context.pathID(), note: body?.note, answerId: body?.answerId, by: actor)
        )
    }

    @Sendable func queue(_ request: Request, context: PatenRequestContext) async throws -> QuestionListResource {
        let helper = try context.require(.volunteer, .staff, .admin)
        let questions = try await desk.queue(
            for: helper, tier: try request.query("tier", as: Tier.self), limit: try request.query("limit", default: 50)
        )
        var resources = questions.map { QuestionResource($0) }
        // Volunteers see which questions belong to an incident, so they do not answer one twice.
        // The queue's read says which are linked; only those cost a second read.
        let linked = questions.filter { $0.incidentId != nil }.map(\.id)
        if let incidents, !linked.isEmpty {
            let briefs = try await incidents.briefs(questionIds: linked, for: helper)
            for index in resources.indices {
                resources[index].incident = briefs[resources[index].id].map(IncidentBriefResource.init)
            }
        }
        return QuestionListResource(questions: resources, nextCursor: nil)
    }

    @Sendable func reply(
        _ request: Request, context: PatenRequestContext
    ) async throws
        -> EditedResponse<MessagePostedResource>
    {
        let helper = try context.requireIdentity()
        var request = request
        let body = try await request.decodeJSON(MessageRequest.self)
        let (question, message) = try await desk.reply(to: try context.pathID(), body: body.body, by: helper)
        if question.firstResponseAt == message.createdAt {
            Metrics.Timer(label: "paten_first_response_seconds", dimensions: [("tier", question.tier.rawValue)])
                .recordInterval(since: question.createdAt, until: message.createdAt)
        }
        return EditedResponse(
            status: .created,
            response: MessagePostedResource(question: QuestionResource(question), message: MessageResource(message))
        )
    }

    @Sendable func customerMessage(_ request: Request, context: PatenRequestContext) async throws -> Response {
        let actor = try context.requireIdentity()
        let id = try context.pathID()
        return try await idempotency.respond(
            to: request, context: context, account: actor, route: "POST /v1/questions/\(id)/messages",
            rebuild: { written in
                guard let message = written.message else { throw PatenError.notFound("question", id: id) }
                return Self.posted(written.question, message)
            }
        ) { request, reservation in
            var request = request
            let body = try await request.decodeJSON(MessageRequest.self)
            let (question, message) = try await desk.addCustomerMessage(
                to: id, body: body.body, by: actor, idempotency: reservation
            )
            return Self.posted(question, message)
        }
    }

    /// The 201 for a follow-up: the message and the question.
    static func posted(_ question: Question, _ message: Message) -> EditedResponse<MessagePostedResource> {
        EditedResponse(
            status: .created,
            response: MessagePostedResource(question: QuestionResource(question), message: MessageResource(message))
        )
    }
}

extension Metrics.Timer {
    /// Records the time between two instants.
    func recordInterval(since start: Date, until end: Date) {
        recordNanoseconds(Int64(max(0, end.timeIntervalSince(start)) * 1_000_000_000))
    }
}
