import Foundation
import Hummingbird
import Logging
import PatenCore

/// The one place where failures become HTTP responses: `{"error": {"code", "message"}}` with the right status.
/// Anything that is not a known client error is logged and answered with a plain 500.
public struct PatenErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Creates the middleware.
    public init() {}

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        // A server error names the request (`RequestLogMiddleware` puts its id in the logger), so that a report of it
        // finds its log lines.
        let requestId = context.logger[metadataKey: RequestLogMiddleware.requestIdKey].map { "\($0)" }
        func failure(
            _ status: HTTPResponse.Status, _ code: String, _ message: String, _ details: [String: String] = [:]
        )
            -> Response
        {
            var details = details
            if status.code >= 500, let requestId { details["request_id"] = requestId }
            return Self.response(status: status, code: code, message: message, details: details)
        }
        do {
            // A NUL in a path or query value could never name anything, and PostgreSQL cannot compare it.
            if JSONText.containsEncodedNUL(request.uri.description) { throw JSONText.nulRefused }
            return try await next(request, context)
        } catch let error as PatenError {
            var details = error.details
            if error.kind == .unavailable {
                // The client is told when to come back; the operator needs to know why it was sent away.
                context.logger.error("database unavailable", metadata: ["code": "\(error.code)", "error": "\(error.message)"])
                if details["retry_after"] == nil { details["retry_after"] = "5" }
            }
            return failure(Self.status(for: error.kind), error.code, error.message, details)
        } catch let error as any StorageDriverError where error.meansUnavailable {
            context.logger.error("database unavailable", metadata: ["error": "\(String(reflecting: error))"])
            return failure(
                .serviceUnavailable, "database_unavailable", "The database cannot be reached right now; try again shortly.",
                ["retry_after": "5"]
            )
        } catch let error as any HTTPResponseError {
            let (code, message) = Self.describe(error.status, request: request)
            return failure(error.status, code, message)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return failure(
                .internalServerError, "internal_error", "Something went wrong on the server; the error is logged. Try again."
            )
        }
    }

    /// The HTTP status for a kind of failure.
    public static func status(for kind: PatenError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .malformed: .badRequest
        case .unauthenticated: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .tooLarge: .contentTooLarge
        case .unprocessable: .unprocessableContent
        case .unavailable: .serviceUnavailable
        case .tooManyRequests: .tooManyRequests
        case .configuration: .internalServerError
        }
    }

    static func describe(_ status: HTTPResponse.Status, request: Request) -> (String, String) {
        switch status {
        case .notFound:
            ("route_not_found", "No route for \(request.method) \(request.uri.path); see /openapi.yaml.")
        case .methodNotAllowed:
            ("method_not_allowed", "\(request.method) is not allowed on \(request.uri.path); see /openapi.yaml.")
        case .contentTooLarge:
            ("body_too_large", "The request body is larger than this route accepts; send less.")
        case .badRequest:
            ("bad_request", "The request could not be read.")
        default:
            (status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_"), status.reasonPhrase)
        }
    }

    static func response(
        status: HTTPResponse.Status, code: String, message: String, details: [String: String] = [:]
    ) -> Response {
        let body = ErrorBody(error: .init(code: code, message: message, details: details.isEmpty ? nil : details))
        let data = (try? APICoding.encoder.encode(body)) ?? Data(#"{"error":{"code":"internal_error"}}"#.utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        // A refusal that names a wait (429, a busy database's 503) says it in the standard header too.
        if let wait = details["retry_after"] { headers[.retryAfter] = wait }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The body of every error response.
public struct ErrorBody: Codable, Sendable {
    /// The error itself.
    public struct Detail: Codable, Sendable {
        public var code: String
        public var message: String
        public var details: [String: String]?
    }

    public var error: Detail
}
