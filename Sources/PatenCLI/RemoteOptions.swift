import ArgumentParser
import PatenClient

/// `--remote` for the admin commands: call a running server through the generated `PatenClient` with an admin login,
/// instead of opening the database, so an operator needs no shell on the database host.
public struct RemoteOptions: ParsableArguments {
    @Flag(
        help: """
            Use the running server and your 'paten login' (or PATEN_URL and PATEN_TOKEN) admin credentials instead of \
            the database.
            """
    )
    public var remote = false

    @Option(help: "Server URL with --remote (PATEN_URL, or the saved login).") public var url: String?
    @Option(help: "Admin bearer token with --remote (PATEN_TOKEN, or the saved login).") public var token: String?

    /// Creates the options with their defaults (ArgumentParser fills them in).
    public init() {}

    public func validate() throws {
        if !remote && (url != nil || token != nil) {
            throw ValidationError("--url and --token go with --remote; without it the command opens the database.")
        }
    }

    /// Runs `body` with a client for the resolved server and token; refusals become `PatenError`s of their kind.
    public func call<T: Sendable>(_ body: (Client) async throws -> T) async throws -> T {
        try await APISession.call(try ClientCredentials.resolve(url: url, token: token), body)
    }
}
