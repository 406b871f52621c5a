import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PatenCore
import ServiceLifecycle
import Synchronization

/// Escalations: handing questions to staff, the staff list, acknowledge and resolve, and the live stream.
public struct EscalationController: Sendable {
    let desk: SupportDesk
    let escalations: EscalationDesk
    /// Re-authenticates an open stream's token, the way `BearerAuthenticator` does for each request.
    let directory: HelperDirectory
    /// How often the stream looks for new changes.
    let pollInterval: Duration
    /// How often the stream sends a heartbeat comment when nothing happens.
    let heartbeatInterval: Duration
    /// How often an open stream checks that its token is still valid and its account still staff or admin.
    let recheckInterval: Duration
    /// The open streams per account.
    let slots: EscalationStreamSlots

    /// Creates the controller; each account may hold `streamsPerAccount` streams open at once.
    public init(
        desk: SupportDesk, escalations: EscalationDesk, directory: HelperDirectory,
        pollInterval: Duration = .milliseconds(500), heartbeatInterval: Duration = .seconds(15),
        recheckInterval: Duration = .seconds(5), streamsPerAccount: Int = 4
    ) {
        self.desk = desk
        self.escalations = escalations
        self.directory = directory
        self.pollInterval = pollInterval
        self.heartbeatInterval = heartbeatInterval
        self.recheckInterval = recheckInterval
        self.slots = EscalationStreamSlots(limit: streamsPerAccount)
    }

    /// `POST /v1/questions/{id}/escalate` body.
    struct EscalateRequest: Decodable {
        var note: String
        var level: Int?
    }

    /// Adds the routes to a group under `/v1`.
    public func addRoutes(to group: RouterGroup<PatenRequestContext>) {
        group.post("questions/{id}/escalate") { request, context -> EditedResponse<EscalationResource> in
            let actor = try context.requireIdentity()
            var request = request
            let body = try await request.decodeJSON(EscalateRequest.self)
            let escalation = try await desk.escalate(try context.pathID(), note: body.note, level: body.level, by: actor)
            return EditedResponse(status: .created, response: EscalationResource(escalation))
        }
        group.get("escalations", use: list)
        group.post("escalations/{id}/acknowledge") { _, context in
            EscalationResource(try await escalations.acknowledge(try context.pathID(), by: try context.requireIdentity()))
        }
        group.post("escalations/{id}/resolve") { _, context in
            EscalationResource(try await escalations.resolve(try context.pathID(), by: try context.requireIdentity()))
        }
        group.get("escalations/stream", use: stream)
    }

    @Sendable func list(_ request: Request, context: PatenRequestContext) async throws -> EscalationListResource {
        let viewer = try context.requireIdentity()
        let filter = EscalationFilter(
            state: try request.query("state", as: EscalationState.self), level: try request.query("level", in: 1...2),
            reason: try request.query("reason", as: EscalationReason.self),
            minimumAge: try request.query("min_age", in: 0...315_360_000).map(TimeInterval.init),
            questionId: request.uri.queryParameters.get("question_id").map { String($0) },
            limit: try request.query("limit", default: 100)
        )
        return EscalationListResource(escalations: try await escalations.list(filter, for: viewer).map(EscalationResource.init))
    }

    /// A resume point as sent by a client: nil when absent, 400 `invalid_last_event_id` when not an event id.
    static func eventID(_ text: String?, name: String) throws -> Int64? {
        guard let text else { return nil }
        guard text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let value = Int64(text) else {
            throw PatenError.malformed("invalid_last_event_id", "\(name) must be an event id this stream sent (a whole number).")
        }
        return value
    }

    /// Server-Sent Events: every new or changed escalation as `id: <seq>`, `event: <kind>`, `data: <json>`, with
    /// heartbeat comments; `Last-Event-ID` (header or `last_event_id` query) resumes after that change. The stream
    /// ends when its token is revoked or its account deactivated or no longer staff or admin (checked every
    /// `recheckInterval`); an account holding `streamsPerAccount` streams already gets 429 `too_many_streams`.
    @Sendable func stream(_ request: Request, context: PatenRequestContext) async throws -> Response {
        let viewer = try context.requireIdentity()
        try EscalationDesk.requireStaff(viewer)
        guard let secret = Self.bearerSecret(request) else { throw PatenError.unauthenticated }
        // Both places are checked, and the header wins when both are sent (browsers' EventSource sends the header).
        let header = try Self.eventID(request.headers[.lastEventID], name: "The Last-Event-ID header")
        let query = try Self.eventID(request.uri.queryParameters.get("last_event_id").map { String($0) }, name: "last_event_id")
        let first: Int64
        if let resume = header ?? query {
            first = resume
        } else {
            first = try await escalations.latestChange()
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        let escalations = self.escalations
        let directory = self.directory
        let pollInterval = self.pollInterval
        let heartbeatInterval = self.heartbeatInterval
        let recheckInterval = self.recheckInterval
        let logger = context.logger
        let slot = try slots.claim(for: viewer.id, retryAfter: recheckInterval)
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                defer { slot.release() }
                // The resume point first (an id with no data moves a client's Last-Event-ID without an event), so a
                // client that drops before any event resumes here rather than at whatever is latest then.
                try await writer.write(ByteBuffer(string: "id: \(first)\n\n: connected\n\n"))
                var start = first
                var sinceBeat = Duration.zero
                var nextCheck = ContinuousClock.now.advanced(by: recheckInterval)
                // The stream ends when the client goes away or the server shuts down gracefully; an open stream
                // must never hold up a SIGTERM.
                let stopping = StopSignal()
                try await withGracefulShutdownHandler {
                    while !Task.isCancelled && !stopping.isSet {
                        if ContinuousClock.now >= nextCheck {
                            guard await Self.stillAllowed(secret, account: viewer.id, directory: directory, logger: logger)
                            else {
                                try await writer.write(ByteBuffer(string: ": access ended\n\n"))
                                return
                            }
                            nextCheck = ContinuousClock.now.advanced(by: recheckInterval)
                        }
                        let changes: [EscalationChange]
                        do {
                            changes = try await escalations.changes(after: start)
                        } catch {
                            logger.error("escalation stream read failed", metadata: ["error": "\(error)"])
                            return
                        }
                        for change in changes {
                            try await writer.write(ByteBuffer(string: try Self.event(change)))
                            start = change.sequence
                        }
                        if changes.isEmpty {
                            if sinceBeat >= heartbeatInterval {
                                try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                                sinceBeat = .zero
                            }
                            guard (try? await Task.sleep(for: pollInterval)) != nil else { return }
                            sinceBeat += pollInterval
                        }
                    }
                } onGracefulShutdown: {
                    stopping.set()
                }
                try await writer.finish(nil)
            }
        )
    }

    /// Whether the stream's token still authenticates its account as staff or admin; a failed check ends the stream
    /// too, since it can no longer be vouched for.
    static func stillAllowed(
        _ secret: String, account: String, directory: HelperDirectory, logger: Logger
    ) async -> Bool {
        do {
            guard let helper = try await directory.authenticate(secret: secret), helper.id == account else { return false }
            return helper.role.isStaffOrAdmin
        } catch {
            logger.error("escalation stream access check failed", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// The token of `Authorization: Bearer <token>`, as `BearerAuthenticator` read it.
    static func bearerSecret(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1]).trimmingCharacters(in: .whitespaces)
    }

    /// One change in the event-stream format.
    static func event(_ change: EscalationChange) throws -> String {
        let json = String(decoding: try APICoding.encoder.encode(EscalationResource(change.escalation)), as: UTF8.self)
        return "id: \(change.sequence)\nevent: \(change.kind.rawValue)\ndata: \(json)\n\n"
    }
}

extension HTTPField.Name {
    /// The header an event-stream client sends to resume.
    static var lastEventID: Self { Self("Last-Event-ID") ?? .accept }
}

/// A flag one task raises and another polls.
final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)

    /// Whether the flag is raised.
    var isSet: Bool { flag.load(ordering: .acquiring) }

    /// Raises the flag.
    func set() { flag.store(true, ordering: .releasing) }
}
