import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PatenCore
import PatenHTTP

/// The CLI's view of a running Paten server: one method per API call, decoding the same resource types the
/// server encodes. Failures come back as `PatenError` with the server's code and message.
public struct APIClient: Sendable {
    public let credentials: ClientCredentials
    private let http: HTTPClient

    /// Creates a client; by default it uses the process-wide `commandLine` HTTP client.
    public init(credentials: ClientCredentials, http: HTTPClient = APIClient.commandLine) {
        self.credentials = credentials
        self.http = http
    }

    /// The HTTP client for the CLI: like `HTTPClient.shared`, but a refused connection fails at once (exit code 6)
    /// instead of being retried until the request's deadline.
    public static let commandLine: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// The caller's own account.
    public func me() async throws -> HelperResource { try await send(.GET, "/v1/me") }

    /// The server's liveness and version (`GET /healthz`, no token needed).
    public func health() async throws -> OperationsController.Health { try await send(.GET, "/healthz") }

    /// The caller's queue.
    public func queue(tier: Tier? = nil, limit: Int? = nil) async throws -> QuestionListResource {
        var query: [String] = []
        if let tier { query.append("tier=\(tier.rawValue)") }
        if let limit { query.append("limit=\(limit)") }
        return try await send(.GET, "/v1/queue" + (query.isEmpty ? "" : "?" + query.joined(separator: "&")))
    }

    /// Questions visible to the caller (for volunteers, their own claims).
    public func questions(state: QuestionState? = nil) async throws -> QuestionListResource {
        try await send(.GET, "/v1/questions" + (state.map { "?state=\($0.rawValue)" } ?? ""))
    }

    /// A question with a page of its messages (after the message id, if given) and of its timeline.
    public func question(_ id: String, after: String? = nil, limit: Int? = nil) async throws -> QuestionDetailResource {
        var query: [String] = []
        if let after { query.append("messages_after=\(try pathSegment(after))") }
        if let limit { query.append("messages_limit=\(limit)") }
        return try await send(.GET, "/v1/questions/\(try pathSegment(id))" + (query.isEmpty ? "" : "?" + query.joined(separator: "&")))
    }

    /// Runs one of the question actions: claim, release, resolve or reopen.
    public func act(_ action: QuestionAction, on id: String) async throws -> QuestionResource {
        try await send(.POST, "/v1/questions/\(try pathSegment(id))/\(action.rawValue)")
    }

    /// Resolves a question, with a note saying why (required when nobody has answered).
    public func resolve(_ id: String, note: String?, answerId: String? = nil) async throws -> QuestionResource {
        let path = "/v1/questions/\(try pathSegment(id))/resolve"
        var body: [String: String] = [:]
        body["note"] = note
        body["answer_id"] = answerId
        return try await body.isEmpty ? send(.POST, path) : send(.POST, path, body: body)
    }

    /// Posts a reply.
    public func reply(to id: String, body: String) async throws -> MessagePostedResource {
        try await send(.POST, "/v1/questions/\(try pathSegment(id))/replies", body: ["body": body])
    }

    /// Hands a question to staff (volunteers) or escalates it by hand (staff).
    public func escalate(_ id: String, note: String, level: Int?) async throws -> EscalationResource {
        try await send(.POST, "/v1/questions/\(try pathSegment(id))/escalate", json: EscalateBody(note: note, level: level))
    }

    /// Escalations, newest first.
    public func escalations(state: EscalationState? = nil, level: Int? = nil) async throws -> EscalationListResource {
        var query: [String] = []
        if let state { query.append("state=\(state.rawValue)") }
        if let level { query.append("level=\(level)") }
        return try await send(.GET, "/v1/escalations" + (query.isEmpty ? "" : "?" + query.joined(separator: "&")))
    }

    /// Acknowledges or resolves an escalation.
    public func escalationAction(_ action: EscalationAction, _ id: String) async throws -> EscalationResource {
        try await send(.POST, "/v1/escalations/\(try pathSegment(id))/\(action.rawValue)")
    }

    /// What staff do to an escalation.
    public enum EscalationAction: String, Sendable {
        case acknowledge, resolve
    }

    /// Metrics summary for a period (nil: the last 30 days).
    public func metricsSummary(
        from: String?, to: String?, groupBy: MetricsGrouping
    ) async throws
        -> MetricsController.SummaryResource
    {
        try await send(.GET, "/v1/metrics/summary?" + Self.query(["from": from, "to": to, "group_by": groupBy.rawValue]))
    }

    /// Solved questions similar to a question, most similar first, with their credited answers.
    public func similar(to id: String) async throws -> SimilarListResource {
        try await send(.GET, "/v1/questions/\(try pathSegment(id))/similar")
    }

    /// Streams the per-question export to `output`, chunk by chunk, so memory stays flat; `onChunk` sees each
    /// chunk after it is written (for progress).
    public func exportMetrics(
        format: String, from: String?, to: String?, into output: FileHandle, onChunk: (Data) -> Void = { _ in }
    ) async throws {
        let path = "/v1/metrics/export?" + Self.query(["format": format, "from": from, "to": to])
        let response = try await open(.GET, path)
        for try await chunk in response.body {
            let data = Data(chunk.readableBytesView)
            output.write(data)
            onChunk(data)
        }
    }

    /// Follows the escalation stream, calling `onEvent` for each event; reconnects with `Last-Event-ID` after a
    /// dropped connection. Returns only when the task is cancelled or the server refuses.
    public func watchEscalations(onEvent: @Sendable (ServerSentEvent) async throws -> Void) async throws {
        var lastEventID: String?
        while !Task.isCancelled {
            var headers: [(String, String)] = [("Accept", "text/event-stream")]
            if let lastEventID { headers.append(("Last-Event-ID", lastEventID)) }
            do {
                let response = try await open(.GET, "/v1/escalations/stream", headers: headers, timeout: .hours(24 * 365))
                var parser = ServerSentEventParser()
                for try await chunk in response.body {
                    let events = parser.feed(chunk.readableBytesView)
                    // The stream's opening block carries the resume point even before the first event.
                    if let id = parser.lastEventID { lastEventID = id }
                    for event in events { try await onEvent(event) }
                }
            } catch let error as PatenError where error.kind != .unavailable {
                throw error
            } catch is CancellationError {
                return
            } catch {
                // The connection dropped; wait a moment and resume where it stopped.
            }
            try await Task.sleep(for: .seconds(1))
        }
    }

    static func query(_ items: [String: String?]) -> String {
        items.compactMap { key, value in
            value.map { "\(key)=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["-", ":", "."])) ?? $0)" }
        }.sorted().joined(separator: "&")
    }

    /// The actions that take no body.
    public enum QuestionAction: String, Sendable {
        case claim, release, reopen
    }

    private func pathSegment(_ id: String) throws -> String {
        guard !id.isEmpty, let encoded = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["_", "-"]))
        else { throw PatenError.malformed("invalid_id", "Give a question id such as q_abc123.") }
        return encoded
    }

    private func send<Response: Decodable>(
        _ method: HTTPMethod, _ path: String, body: [String: String]? = nil
    ) async throws -> Response {
        try await send(method, path, json: body)
    }

    private func send<Response: Decodable>(
        _ method: HTTPMethod, _ path: String, json body: (some Encodable & Sendable)?
    ) async throws -> Response {
        let response = try await open(method, path, body: try body.map { try APICoding.encoder.encode($0) })
        let data: Data
        do {
            data = Data(try await response.body.collect(upTo: 16 * 1024 * 1024).readableBytesView)
        } catch {
            throw PatenError(.unavailable, code: "server_unreachable", message: "The server's answer broke off (\(error)).")
        }
        do {
            return try APICoding.decoder.decode(Response.self, from: data)
        } catch {
            throw PatenError(
                .unavailable, code: "unexpected_response",
                message: "The server's answer could not be read (\(error)); are client and server the same version?"
            )
        }
    }

    /// Sends a request and returns the response once its head arrives; a non-2xx answer becomes the server's error.
    private func open(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, headers: [(String, String)] = [],
        timeout: TimeAmount = .seconds(30)
    ) async throws -> HTTPClientResponse {
        let base = credentials.url.hasSuffix("/") ? String(credentials.url.dropLast()) : credentials.url
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(credentials.token)")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: PatenVersion.userAgent)
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: timeout)
        } catch {
            throw PatenError(
                .unavailable, code: "server_unreachable",
                message: "Cannot reach the Paten server at \(credentials.url) (\(error)); is it running?"
            )
        }
        if (200..<300).contains(response.status.code) { return response }
        let data = Data((try? await response.body.collect(upTo: 1024 * 1024))?.readableBytesView ?? ByteBuffer().readableBytesView)
        if let failure = try? APICoding.decoder.decode(ErrorBody.self, from: data) {
            throw PatenError(
                Self.kind(for: Int(response.status.code)), code: failure.error.code, message: failure.error.message,
                details: failure.error.details ?? [:]
            )
        }
        throw PatenError(
            .unavailable, code: "unexpected_response",
            message: "The server answered \(response.status.code) without an error body."
        )
    }

    private static func kind(for status: Int) -> PatenError.Kind {
        switch status {
        case 400: .malformed
        case 401: .unauthenticated
        case 403: .forbidden
        case 404: .notFound
        case 409: .conflict
        case 413: .tooLarge
        case 422: .unprocessable
        default: .unavailable
        }
    }
}

/// The body of an escalation request.
struct EscalateBody: Encodable, Sendable {
    var note: String
    var level: Int?
}
