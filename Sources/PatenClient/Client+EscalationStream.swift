import Foundation
import OpenAPIRuntime

extension Client {
    /// One event of the escalation stream: `escalation.created`, `escalation.acknowledged` or `escalation.resolved`
    /// with the escalation as it stands, and the event id to resume after.
    public typealias EscalationEvent = ServerSentEventWithJSONData<Components.Schemas.Escalation>

    /// Opens the escalation stream (staff and admins) and decodes it with OpenAPIRuntime's Server-Sent Events decoder;
    /// heartbeat comments are skipped. With `lastEventID` the stream resumes after that event. Make the client with a
    /// long `timeout`: the stream stays open until the server ends it or the task is cancelled.
    public func escalationEvents(
        after lastEventID: Int64? = nil
    ) async throws -> some AsyncSequence<EscalationEvent, any Error> & Sendable {
        let response = try await streamEscalations(headers: .init(lastEventID: lastEventID))
        return try response.ok.body.textEventStream.asDecodedServerSentEventsWithJSONData(
            of: Components.Schemas.Escalation.self, decoder: Self.eventDecoder
        )
    }

    /// The escalation stream's events with their data undecoded, for a reader that must go on past an event it cannot
    /// decode (one from a newer server, say): decode each with `escalation(from:)`.
    public func rawEscalationEvents(
        after lastEventID: Int64? = nil
    ) async throws -> some AsyncSequence<ServerSentEvent, any Error> & Sendable {
        let response = try await streamEscalations(headers: .init(lastEventID: lastEventID))
        return try response.ok.body.textEventStream.asDecodedServerSentEvents()
    }

    /// An event's data as an escalation; nil when it is not one this client knows how to read.
    public static func escalation(from data: String) -> Components.Schemas.Escalation? {
        try? eventDecoder.decode(Components.Schemas.Escalation.self, from: Data(data.utf8))
    }

    /// Decodes an event's JSON data the way the generated client decodes bodies.
    static var eventDecoder: JSONDecoder {
        let decoder = JSONDecoder()
        let transcoder = RFC3339DateTranscoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            try transcoder.decode(try decoder.singleValueContainer().decode(String.self))
        }
        return decoder
    }
}
