import Foundation
import Hummingbird
import Metrics
import PatenCore

/// Customers' data (admin, docs/privacy.md): erasure on request, access (a streamed export) and the erasures' audit
/// facts.
public struct CustomerController: Sendable {
    let privacy: PrivacyDesk

    /// Creates the controller over the desk.
    public init(privacy: PrivacyDesk) {
        self.privacy = privacy
    }

    /// Adds the routes to a group under `/v1`.
    public func addRoutes(to group: RouterGroup<PatenRequestContext>) {
        group.delete("customers/{channel}/{customer_id}") { _, context in
            let admin = try context.require(.admin)
            let (channel, customerId) = try Self.customer(context)
            let erasure = try await privacy.erase(channel: channel, customerId: customerId, by: admin)
            Counter(
                label: "paten_redacted_questions_total", dimensions: [("reason", RedactionReason.erasure.rawValue)]
            ).increment(by: erasure.questions)
            return ErasureResource(erasure)
        }
        group.get("customers/{channel}/{customer_id}/export", use: export)
        group.get("erasures") { request, context in
            _ = try context.require(.admin)
            let limit = try request.query("limit", in: 1...1000) ?? 100
            return ErasureListResource(erasures: try await privacy.erasures(limit: limit).map(ErasureResource.init))
        }
    }

    /// The channel and customer id of the path, percent-decoded.
    static func customer(_ context: PatenRequestContext) throws -> (String, String) {
        func decoded(_ name: String) throws -> String {
            guard let raw = context.parameters.get(name), let value = raw.removingPercentEncoding else {
                throw PatenError.malformed(
                    "invalid_path", "The \(name) in the path is not valid percent-encoded text; encode it as a URL path segment."
                )
            }
            return value
        }
        return (try decoded("channel"), try decoded("customer_id"))
    }

    /// `GET /v1/customers/{channel}/{customer_id}/export`: everything stored about the customer as one JSON
    /// document, written a page of questions at a time.
    @Sendable func export(_ request: Request, context: PatenRequestContext) async throws -> Response {
        let admin = try context.require(.admin)
        let (channel, customerId) = try Self.customer(context)
        // The first page is read before the response starts, so an unknown customer is a 404, not an empty export.
        let first = try await privacy.export(channel: channel, customerId: customerId, after: nil, by: admin)
        let privacy = self.privacy
        let exportedAt = privacy.now()
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"paten-customer-export.json\""
        headers[.cacheControl] = "no-store"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                try await writer.write(
                    ByteBuffer(
                        string: try CustomerExportJSON.opening(
                            channel: channel, customerId: customerId, exportedAt: exportedAt
                        )
                    )
                )
                var page = first
                var isFirst = true
                while true {
                    var chunk = ""
                    for entry in page.questions {
                        chunk += try CustomerExportJSON.question(entry, first: isFirst)
                        isFirst = false
                    }
                    try await writer.write(ByteBuffer(string: chunk))
                    guard let next = page.next else { break }
                    page = try await privacy.export(channel: channel, customerId: customerId, after: next, by: admin)
                }
                try await writer.write(ByteBuffer(string: CustomerExportJSON.closing))
                try await writer.finish(nil)
            }
        )
    }
}

/// The export document in pieces, written as they are ready (the API streams them; `paten customers export` prints
/// them): `opening`, each `question`, then `closing`.
public enum CustomerExportJSON {
    /// The document's first fields and the opening of its question list.
    public static func opening(channel: String, customerId: String, exportedAt: Date) throws -> String {
        let head = CustomerExportHead(channel: channel, customerId: customerId, exportedAt: exportedAt)
        var opening = String(decoding: try APICoding.encoder.encode(head), as: UTF8.self)
        opening.removeLast()  // the closing brace: the questions follow
        return opening + ",\"questions\":["
    }

    /// One question of the list, on a line of its own.
    public static func question(_ entry: CustomerQuestionExport, first: Bool) throws -> String {
        (first ? "\n" : ",\n") + String(decoding: try APICoding.encoder.encode(ExportedQuestion(entry)), as: UTF8.self)
    }

    /// The end of the list and the document.
    public static let closing = "\n]}\n"
}

/// An erasure's audit fact as the API shows it.
public struct ErasureResource: ResponseCodable, Sendable, Equatable {
    public var id: String
    public var channel: String
    public var erasedBy: String
    public var erasedAt: Date
    /// Questions this request redacted (0 when the customer was erased before, or had none).
    public var questions: Int

    /// The resource for an audit fact.
    public init(_ erasure: Erasure) {
        id = erasure.id
        channel = erasure.channel
        erasedBy = erasure.erasedBy
        erasedAt = erasure.erasedAt
        questions = erasure.questions
    }
}

/// `GET /v1/erasures`.
public struct ErasureListResource: ResponseCodable, Sendable, Equatable {
    public var erasures: [ErasureResource]

    /// Creates the list.
    public init(erasures: [ErasureResource]) {
        self.erasures = erasures
    }
}

/// The export's opening fields.
struct CustomerExportHead: Encodable {
    var channel: String
    var customerId: String
    var exportedAt: Date
}

/// One question in an export: the customer's words and what happened to them, without helpers' account ids (the
/// helpers are people too; a reply says only that a helper wrote it).
struct ExportedQuestion: Encodable {
    struct ExportedMessage: Encodable {
        var id: String
        var author: AuthorKind
        var body: String
        var createdAt: Date
    }

    struct ExportedEvent: Encodable {
        var type: String
        var at: Date
        var data: [String: String]
    }

    struct ExportedRating: Encodable {
        var score: Int
        var comment: String?
        var solved: Bool?
        var ratedAt: Date
    }

    var id: String
    var customer: Customer
    var subject: String
    var topic: String
    var language: String
    var priority: Priority
    var tier: Tier
    var state: QuestionState
    var createdAt: Date
    var firstResponseAt: Date?
    var resolvedAt: Date?
    var messages: [ExportedMessage]
    var timeline: [ExportedEvent]
    var rating: ExportedRating?

    init(_ entry: CustomerQuestionExport) {
        let question = entry.question
        id = question.id
        customer = question.customer
        subject = question.subject
        topic = question.topic
        language = question.language
        priority = question.priority
        tier = question.tier
        state = question.state
        createdAt = question.createdAt
        firstResponseAt = question.firstResponseAt
        resolvedAt = question.resolvedAt
        messages = entry.messages.map {
            ExportedMessage(id: $0.id, author: $0.authorKind, body: $0.body, createdAt: $0.createdAt)
        }
        // Facts naming helpers' accounts (holder, replier, credited helper) keep only what is about the question, and an
        // incident's top terms (other customers' words) are left out.
        timeline = entry.events.map { event in
            ExportedEvent(
                type: event.type.rawValue, at: event.at,
                data: event.data.filter { key, _ in
                    !key.hasSuffix("_id") && !key.hasPrefix("helper") && key != "top_terms"
                }
            )
        }
        rating = entry.rating.map {
            ExportedRating(score: $0.score, comment: $0.comment, solved: $0.solved, ratedAt: $0.ratedAt)
        }
    }
}
