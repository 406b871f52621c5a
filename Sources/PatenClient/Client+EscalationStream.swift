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
