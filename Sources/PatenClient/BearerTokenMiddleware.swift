import HTTPTypes
import OpenAPIRuntime

import struct Foundation.URL

/// Signs every request with the account's bearer token and names the client in `User-Agent`.
public struct BearerTokenMiddleware: ClientMiddleware {
    /// The token, sent as `Authorization: Bearer <token>`; nil sends none (the rating page and health checks).
    public var token: String?
    /// The `User-Agent` value, such as `paten/0.1.0`.
    public var userAgent: String

    /// Creates the middleware.
    public init(token: String?, userAgent: String) {
        self.token = token
        self.userAgent = userAgent
    }

    /// Adds the headers, then passes the request on.
    public func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        if let token { request.headerFields[.authorization] = "Bearer \(token)" }
        request.headerFields[.userAgent] = userAgent
        return try await next(request, body, baseURL)
    }
}
