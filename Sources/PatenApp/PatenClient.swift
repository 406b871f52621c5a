import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PatenCore
import PatenHTTP

/// The CLI's view of a running Paten server: one method per API call, decoding the same resource types the
/// server encodes. Failures come back as `PatenError` with the server's code and message.
public struct PatenClient: Sendable {
    public let credentials: ClientCredentials
    private let http: HTTPClient

    /// Creates a client; it uses the process-wide shared HTTP client.
    public init(credentials: ClientCredentials, http: HTTPClient = .shared) {
        self.credentials = credentials
        self.http = http
    }

    /// The caller's own account.
    public func me() async throws -> HelperResource { try await send(.GET, "/v1/me") }

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

    /// A question with messages and timeline.
    public func question(_ id: String) async throws -> QuestionDetailResource {
        try await send(.GET, "/v1/questions/\(try pathSegment(id))")
    }

    /// Runs one of the question actions: claim, release, resolve or reopen.
    public func act(_ action: QuestionAction, on id: String) async throws -> QuestionResource {
        try await send(.POST, "/v1/questions/\(try pathSegment(id))/\(action.rawValue)")
    }

    /// Posts a reply.
    public func reply(to id: String, body: String) async throws -> MessagePostedResource {
        try await send(.POST, "/v1/questions/\(try pathSegment(id))/replies", body: ["body": body])
    }

    /// The actions that take no body.
    public enum QuestionAction: String, Sendable {
        case claim, release, resolve, reopen
    }

    private func pathSegment(_ id: String) throws -> String {
        guard !id.isEmpty, let encoded = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["_", "-"]))
        else { throw PatenError.malformed("invalid_id", "Give a question id such as q_abc123.") }
        return encoded
    }

    private func send<Response: Decodable>(
        _ method: HTTPMethod, _ path: String, body: [String: String]? = nil
    ) async throws -> Response {
        let base = credentials.url.hasSuffix("/") ? String(credentials.url.dropLast()) : credentials.url
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(credentials.token)")
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try APICoding.encoder.encode(body)))
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(request, timeout: .seconds(30))
            bytes = try await response.body.collect(upTo: 16 * 1024 * 1024)
        } catch {
            throw PatenError(
                .unavailable, code: "server_unreachable",
                message: "Cannot reach the Paten server at \(credentials.url) (\(error)); is it running?"
            )
        }
        let data = Data(bytes.readableBytesView)
        guard (200..<300).contains(response.status.code) else {
            if let failure = try? APICoding.decoder.decode(ErrorBody.self, from: data) {
                throw PatenError(
                    Self.kind(for: Int(response.status.code)), code: failure.error.code,
                    message: failure.error.message, details: failure.error.details ?? [:]
                )
            }
            throw PatenError(
                .unavailable, code: "unexpected_response",
                message: "The server answered \(response.status.code) without an error body."
            )
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
