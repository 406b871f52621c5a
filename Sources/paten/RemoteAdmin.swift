import ArgumentParser
import Foundation
import OpenAPIRuntime
import PatenApp
import PatenClient
import PatenCore

/// `--remote` for the admin commands: call a running server through the generated `PatenClient` with an admin login,
/// instead of opening the database, so an operator needs no shell on the database host.
struct RemoteOptions: ParsableArguments {
    @Flag(
        help: """
            Use the running server and your 'paten login' (or PATEN_URL and PATEN_TOKEN) admin credentials instead of \
            the database.
            """
    )
    var remote = false

    @Option(help: "Server URL with --remote (PATEN_URL, or the saved login).") var url: String?
    @Option(help: "Admin bearer token with --remote (PATEN_TOKEN, or the saved login).") var token: String?

    func validate() throws {
        if !remote && (url != nil || token != nil) {
            throw ValidationError("--url and --token go with --remote; without it the command opens the database.")
        }
    }

    /// Runs `body` with a client for the resolved server and token; refusals become `PatenError`s of their kind.
    func call<T: Sendable>(_ body: (Client) async throws -> T) async throws -> T {
        try await APISession.call(try ClientCredentials.resolve(url: url, token: token), body)
    }
}

/// Calls to the API through the generated `PatenClient`, as the CLI makes them.
enum APISession {
    /// Runs `body` with a client for the server and token; refusals become `PatenError`s of their kind (so they exit
    /// with its code), transport failures an unreachable server.
    static func call<T: Sendable>(
        _ credentials: ClientCredentials, _ body: (Client) async throws -> T
    ) async throws -> T {
        guard let serverURL = URL(string: credentials.url), serverURL.scheme != nil else {
            throw PatenError.configuration("'\(credentials.url)' is not a server URL such as http://127.0.0.1:8080.")
        }
        let client = PatenAPI.client(
            serverURL: serverURL, token: credentials.token, userAgent: PatenVersion.userAgent, throwingErrors: true,
            httpClient: APIClient.commandLine
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
func wire<Wire: RawRepresentable<String>>(_ value: some RawRepresentable<String>) throws -> Wire {
    guard let wire = Wire(rawValue: value.rawValue) else {
        throw PatenError.malformed("invalid_value", "'\(value.rawValue)' is not a value the server's API knows.")
    }
    return wire
}
