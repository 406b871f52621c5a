import Foundation
import OpenAPIRuntime
import PatenClient
import PatenCore

/// Calls to the API through the generated `PatenClient`, as the CLI makes them.
public enum APISession {
    /// Runs `body` with a client for the server and token; refusals become `PatenError`s of their kind (so they exit
    /// with its code), transport failures an unreachable server. `streaming` keeps a request open for as long as the
    /// server streams.
    public static func call<T: Sendable>(
        _ credentials: ClientCredentials, streaming: Bool = false, _ body: (Client) async throws -> T
    ) async throws -> T {
        guard let serverURL = URL(string: credentials.url), serverURL.scheme != nil else {
            throw PatenError.configuration("'\(credentials.url)' is not a server URL such as http://127.0.0.1:8080.")
        }
        let client =
            streaming
            ? PatenAPI.client(
                serverURL: serverURL, token: credentials.token, userAgent: PatenVersion.userAgent, throwingErrors: true,
                httpClient: PatenAPI.commandLineHTTPClient, timeout: PatenAPI.streamTimeout,
                middlewares: [StreamedExportMiddleware()]
            )
            : PatenAPI.client(
                serverURL: serverURL, token: credentials.token, userAgent: PatenVersion.userAgent, throwingErrors: true,
                httpClient: PatenAPI.commandLineHTTPClient, middlewares: [StreamedExportMiddleware()]
            )
        do {
            return try await body(client)
        } catch let error as ClientError {
            throw failure(error, server: credentials.url)
        }
    }

    /// The `PatenError` for a failed call: the server's refusal with its code and message, else an unreachable server.
    static func failure(_ error: ClientError, server: String) -> PatenError {
        if let refusal = error.underlyingError as? PatenAPIError {
            return PatenError(kind(for: refusal.status), code: refusal.code, message: refusal.message)
        }
        if error.response != nil {
            return PatenError(
                .unavailable, code: "unexpected_response",
                message: "The server's answer could not be read (\(error.underlyingError)); are client and server the same version?"
            )
        }
        return PatenError(
            .unavailable, code: "server_unreachable",
            message: "Cannot reach the Paten server at \(server) (\(error.underlyingError)); is it running?"
        )
    }

    /// The kind of failure an HTTP status means, as the CLI's exit codes sort them.
    static func kind(for status: Int) -> PatenError.Kind {
        switch status {
        case 400: .malformed
        case 401: .unauthenticated
        case 403: .forbidden
        case 404: .notFound
        case 409: .conflict
        case 413: .tooLarge
        case 422: .unprocessable
        case 429: .tooManyRequests
        default: .unavailable
        }
    }
}

/// A command-line value as the API's enum of the same raw value.
public func wire<Wire: RawRepresentable<String>>(_ value: some RawRepresentable<String>) throws -> Wire {
    guard let wire = Wire(rawValue: value.rawValue) else {
        throw PatenError.malformed("invalid_value", "'\(value.rawValue)' is not a value the server's API knows.")
    }
    return wire
}
