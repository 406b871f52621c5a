import AsyncHTTPClient
import Foundation
import NIOCore
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime

/// Makes generated `Client`s for a Paten server, signed with an account's token.
///
///     let paten = PatenAPI.client(serverURL: url, token: token)
///     let queue = try await paten.listQueue().ok.body.json
public enum PatenAPI {
    /// The coding configuration matching the server: RFC 3339 times with milliseconds.
    public static let configuration = Configuration(dateTranscoder: RFC3339DateTranscoder())

    /// The HTTP client for a command line: like `HTTPClient.shared`, but a refused connection fails at once instead of
    /// being retried until the request's deadline, so a CLI can say "the server is not running" straight away.
    public static let commandLineHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// The request timeout for a stream that stays open until the server ends it or the task is cancelled, such as
    /// `escalationEvents`.
    public static let streamTimeout: TimeAmount = .hours(24 * 365)

    /// A client for the server at `serverURL` (such as `http://127.0.0.1:8080`), sending `token` as its bearer token.
    /// With `throwingErrors`, every answer outside 2xx throws a `ClientError` whose `underlyingError` is a
    /// `PatenAPIError`; without it, each operation's output names its documented error responses. `middlewares` run
    /// after those.
    public static func client(
        serverURL: URL, token: String?, userAgent: String = "paten-client", throwingErrors: Bool = false,
        httpClient: HTTPClient = .shared, timeout: TimeAmount = .seconds(30), middlewares extra: [any ClientMiddleware] = []
    ) -> Client {
        var middlewares: [any ClientMiddleware] = [BearerTokenMiddleware(token: token, userAgent: userAgent)]
        if throwingErrors { middlewares.append(PatenAPIErrorMiddleware()) }
        middlewares += extra
        return Client(
            serverURL: serverURL, configuration: configuration,
            transport: AsyncHTTPClientTransport(configuration: .init(client: httpClient, timeout: timeout)),
            middlewares: middlewares
        )
    }
}
