import Foundation
import HTTPTypes
import OpenAPIRuntime

/// A refusal from the Paten server: the HTTP status with the error body's machine code and message
/// (`{"error": {"code": ..., "message": ...}}`).
public struct PatenAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status code, such as 404.
    public var status: Int
    /// The machine code, such as `not_found`.
    public var code: String
    /// The message for a person, saying what to fix.
    public var message: String

    /// Creates an error.
    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

/// Turns every answer outside 2xx into a thrown `PatenAPIError`, for callers that treat all refusals alike (such as
/// the CLI); without it, each operation's output names its documented error responses instead. The generated
/// client wraps the error in `ClientError`, whose `underlyingError` it is.
public struct PatenAPIErrorMiddleware: ClientMiddleware {
    /// The largest error body read.
    static let bodyLimit = 1024 * 1024

    /// Creates the middleware.
    public init() {}

    /// Passes the request on and reads a refusal's error body.
    public func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let (response, responseBody) = try await next(request, body, baseURL)
        guard response.status.kind != .successful else { return (response, responseBody) }
        if let responseBody, let data = try? await Data(collecting: responseBody, upTo: Self.bodyLimit),
            let failure = try? JSONDecoder().decode(Components.Schemas._Error.self, from: data)
        {
            throw PatenAPIError(status: response.status.code, code: failure.error.code, message: failure.error.message)
        }
        throw PatenAPIError(
            status: response.status.code, code: "unexpected_response",
            message: "The server answered \(response.status.code) without an error body."
        )
    }

}
