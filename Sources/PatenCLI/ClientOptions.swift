import ArgumentParser
import PatenClient

/// Settings shared by every command that talks to a running server.
public struct ClientOptions: ParsableArguments {
    @Option(help: "Server URL (PATEN_URL, or the saved login).") var url: String?
    @Option(help: "Bearer token (PATEN_TOKEN, or the saved login).") var token: String?
    @Flag(help: "JSON instead of text, for scripts.") var json = false

    /// Creates the options with their defaults (ArgumentParser fills them in).
    public init() {}

    /// The server and token the commands use.
    func credentials() throws -> ClientCredentials {
        try ClientCredentials.resolve(url: url, token: token)
    }

    /// Runs `body` with a generated API client for the resolved server and token; refusals become `PatenError`s.
    /// `streaming` keeps the request open for as long as the server streams.
    func call<T: Sendable>(streaming: Bool = false, _ body: (Client) async throws -> T) async throws -> T {
        try await APISession.call(try credentials(), streaming: streaming, body)
    }

    /// Prints JSON or the text form.
    func show(_ value: some Encodable, text: () -> String) throws {
        print(json ? try TerminalRenderer.json(value) : text())
    }
}
