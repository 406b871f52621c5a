import Foundation
import Hummingbird
import PatenCore

/// The question resources written as JSON by hand. Lists of questions are the API's hottest answers (a volunteer's
/// queue, a staff page), and `JSONEncoder` with snake_case keys and custom dates spent most of such a request's
/// time converting key names. The output is the same document `APICoding.encoder` makes (sorted keys, absent
/// optionals left out; a test compares the two).
struct JSONObjectWriter {
    private(set) var text = "{"
    private var empty = true

    private mutating func key(_ name: StaticString) {
        text += empty ? "\"" : ",\""
        empty = false
        text += name.description
        text += "\":"
    }

    mutating func add(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        text += JSONText.quoted(value)
    }

    mutating func add(_ name: StaticString, _ value: Date?) {
        guard let value else { return }
        key(name)
        text += "\"" + RFC3339.format(value) + "\""
    }

    /// A member whose value is already JSON.
    mutating func add(_ name: StaticString, json value: String) {
        key(name)
        text += value
    }

    var closed: String { text + "}" }
}

extension QuestionResource {
    /// The resource as a JSON object, keys in sorted order.
    var json: String {
        var customer = JSONObjectWriter()
        customer.add("id", self.customer.id)
        customer.add("name", self.customer.name)
        var object = JSONObjectWriter()
        object.add("channel", channel)
        object.add("created_at", createdAt)
        object.add("customer", json: customer.closed)
        object.add("first_response_at", firstResponseAt)
        object.add("holder_handle", holderHandle)
        object.add("holder_id", holderId)
        object.add("id", id)
        if let incident, let data = try? APICoding.encoder.encode(incident) {
            // Rare (a question of an incident): written by the API's encoder.
            object.add("incident", json: String(decoding: data, as: UTF8.self))
        }
        object.add("language", language)
        object.add("lease_expires_at", leaseExpiresAt)
        object.add("peer_deadline_at", peerDeadlineAt)
        object.add("priority", priority.rawValue)
        object.add("resolved_at", resolvedAt)
        object.add("resolved_by", resolvedBy)
        object.add("state", state.rawValue)
        object.add("subject", subject)
        object.add("tier", tier.rawValue)
        object.add("topic", topic)
        object.add("updated_at", updatedAt)
        return object.closed
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        .json(json)
    }
}

extension QuestionListResource {
    /// The page as a JSON object.
    var json: String {
        var object = JSONObjectWriter()
        object.add("next_cursor", nextCursor)
        object.add("questions", json: "[" + questions.map(\.json).joined(separator: ",") + "]")
        return object.closed
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        .json(json)
    }
}

extension Response {
    /// A 200 with a JSON body already written.
    static func json(_ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
