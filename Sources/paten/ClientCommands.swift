import ArgumentParser
import Foundation
import PatenApp
import PatenClient
import PatenCore
import PatenHTTP

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Settings shared by every command that talks to a running server.
struct ClientOptions: ParsableArguments {
    @Option(help: "Server URL (PATEN_URL, or the saved login).") var url: String?
    @Option(help: "Bearer token (PATEN_TOKEN, or the saved login).") var token: String?
    @Flag(help: "JSON instead of text, for scripts.") var json = false

    /// A client for the resolved server and token.
    func client() throws -> APIClient {
        APIClient(credentials: try ClientCredentials.resolve(url: url, token: token))
    }

    /// Runs `body` with a generated API client for the resolved server and token; refusals become `PatenError`s.
    func call<T: Sendable>(_ body: (Client) async throws -> T) async throws -> T {
        try await APISession.call(try ClientCredentials.resolve(url: url, token: token), body)
    }

    /// Prints JSON or the text form.
    func show(_ value: some Encodable, text: () -> String) throws {
        print(json ? try TerminalRenderer.json(value) : text())
    }
}

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a server URL and token, then save them (mode 0600) for the other client commands.",
        discussion: """
            The token is read, never needed on the command line: without --token, 'paten login' asks for it \
            without echo when stdin is a terminal, and reads the first line of stdin otherwise; '--token -' reads \
            the first line of stdin. A token written out as '--token pat_...' still works, but shows up in ps and \
            shell history.
            """
    )

    @Option(help: "Server URL, such as http://127.0.0.1:8080 (default: PATEN_URL, or the saved login).") var url: String?
    @Option(help: "'-' reads the token from stdin (default: ask, or read stdin when it is not a terminal).")
    var token: String?

    func run() async throws {
        let saved = try? ClientCredentials.load()
        guard let server = url ?? ProcessInfo.processInfo.environment["PATEN_URL"] ?? saved?.url else {
            throw ValidationError("Give the server with --url, such as --url http://127.0.0.1:8080.")
        }
        if let token, token != "-", isatty(STDERR_FILENO) != 0 {
            FileHandle.standardError.write(
                Data("paten: a token on the command line shows up in ps and shell history; next time use --token -\n".utf8)
            )
        }
        let secret = try TokenInput.read(option: token, input: .standardInput, isTerminal: isatty(STDIN_FILENO) != 0)
        let credentials = ClientCredentials(url: server, token: secret)
        let me = try await APIClient(credentials: credentials).me()
        let path = try credentials.save()
        print("logged in as \(TerminalRenderer.safe(me.handle)) (\(me.role.rawValue)); saved to \(path)")
    }
}

/// Where `paten login` gets the token: the option (a literal token, or '-' for stdin), a prompt without echo on a
/// terminal, or the first line of stdin.
enum TokenInput {
    /// The token, trimmed; a usage error when there is none.
    static func read(option: String?, input: FileHandle, isTerminal: Bool) throws -> String {
        let raw: String?
        switch option {
        case "-"?: raw = firstLine(of: input)
        case let literal?: raw = literal
        case nil: raw = isTerminal ? prompt("Token: ") : firstLine(of: input)
        }
        guard let token = raw?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
            throw ValidationError("No token: give it on stdin ('--token -') or type it when asked.")
        }
        return token
    }

    /// The first line of a stream, read byte by byte so nothing after it is consumed; nil at once at end of file.
    static func firstLine(of input: FileHandle) -> String? {
        var bytes: [UInt8] = []
        while true {
            let byte = input.readData(ofLength: 1)
            guard let first = byte.first else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if first == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(first)
        }
    }

    /// Asks on the terminal without echo.
    static func prompt(_ text: String) -> String? {
        #if canImport(Glibc) || canImport(Darwin)
            guard let answer = getpass(text) else { return nil }
            return String(cString: answer)
        #else
            FileHandle.standardError.write(Data(text.utf8))
            return readLine(strippingNewline: true)
        #endif
    }
}

struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Forget the saved login (the token itself stays valid until revoked: paten tokens revoke)."
    )

    func run() async throws {
        if let path = try ClientCredentials.remove() {
            print("logged out; removed \(path)")
        } else {
            print("not logged in; nothing saved at \(ClientCredentials.filePath())")
        }
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Which server and account the client commands use, and your role."
    )

    @OptionGroup var options: ClientOptions

    /// `paten status --json`.
    struct Report: Encodable {
        var server: String
        var serverVersion: String?
        var account: String
        var name: String
        var role: String
        var credentials: String
    }

    func run() async throws {
        let client = try options.client()
        let me = try await client.me()
        let version = try? await client.health().version
        let report = Report(
            server: client.credentials.url, serverVersion: version, account: me.handle, name: me.displayName,
            role: me.role.rawValue, credentials: ClientCredentials.source(url: options.url, token: options.token)
        )
        try options.show(report) {
            let safe: (String) -> String = { TerminalRenderer.safe($0) }
            return [
                "server: \(safe(report.server))" + (version.map { " (paten \(safe($0)))" } ?? ""),
                "account: \(safe(report.account)) (\(safe(report.name)))",
                "role: \(report.role)",
                "credentials: \(safe(report.credentials))",
            ].joined(separator: "\n")
        }
    }
}

struct Queue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Questions you can claim now, best match first.")

    @OptionGroup var options: ClientOptions
    @Option(help: "Staff only: volunteer or staff.") var tier: Tier?
    @Option(help: "How many, 1 to 200.") var limit: Int?

    func run() async throws {
        let queue = try await options.client().queue(tier: tier, limit: limit)
        try options.show(queue) { TerminalRenderer.questions(queue.questions, empty: "Your queue is empty.") }
    }
}

struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A question with its conversation, a page of messages at a time, and similar solved questions."
    )

    @OptionGroup var options: ClientOptions
    @Argument(help: "The question id.") var id: String
    @Option(help: "Start after this message id (the end of the previous page).") var after: String?
    @Option(help: "Messages per page, 1 to 500.") var limit: Int?

    func run() async throws {
        let client = try options.client()
        let detail = try await client.question(id, after: after, limit: limit)
        let similar = try await similarQuestions(client)
        try options.show(ShownQuestion(detail: detail, similar: similar?.similar)) {
            [TerminalRenderer.detail(detail), similar.flatMap { TerminalRenderer.similar($0.similar) }]
                .compactMap { $0 }.joined(separator: "\n\n")
        }
    }

    /// Similar solved questions; nil when the caller may not see them (403) or the server has none to offer (404).
    func similarQuestions(_ client: APIClient) async throws -> SimilarListResource? {
        do {
            return try await client.similar(to: id)
        } catch let error as PatenError where error.kind == .forbidden || error.kind == .notFound {
            return nil
        } catch let error as PatenError {
            // The question was read; a failure here only leaves out the extra.
            let message = TerminalRenderer.safe(error.message, multiline: true)
            FileHandle.standardError.write(Data("paten: no similar solved questions: \(message)\n".utf8))
            return nil
        }
    }
}

/// `paten show --json`: the question's detail as the API returns it, with a `similar` list added when there is one.
struct ShownQuestion: Encodable {
    var detail: QuestionDetailResource
    var similar: [SimilarResource]?

    enum CodingKeys: String, CodingKey {
        case similar
    }

    func encode(to encoder: any Encoder) throws {
        try detail.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(similar, forKey: .similar)
    }
}

/// The commands that run one body-less action on a question.
protocol QuestionActionCommand: AsyncParsableCommand {
    static var action: APIClient.QuestionAction { get }
    static var verb: String { get }
    var options: ClientOptions { get }
    var id: String { get }
}

extension QuestionActionCommand {
    func run() async throws {
        let question = try await options.client().act(Self.action, on: id)
        try options.show(question) { TerminalRenderer.summary(question, Self.verb) }
    }
}

struct Claim: QuestionActionCommand {
    static let configuration = CommandConfiguration(abstract: "Claim a question; it is yours until the lease runs out.")
    static let action = APIClient.QuestionAction.claim
    static let verb = "claimed"
    @OptionGroup var options: ClientOptions
    @Argument(help: "The question id.") var id: String
}

struct Release: QuestionActionCommand {
    static let configuration = CommandConfiguration(abstract: "Give a claimed question back to the pool.")
    static let action = APIClient.QuestionAction.release
    static let verb = "released"
    @OptionGroup var options: ClientOptions
    @Argument(help: "The question id.") var id: String
}

struct Resolve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mark a question resolved (volunteers after replying; staff may resolve unanswered with --note)."
    )
    @OptionGroup var options: ClientOptions
    @Argument(help: "The question id.") var id: String
    @Option(help: "Why it is resolved; required when nobody has answered.") var note: String?
    @Option(help: "The helper reply (m_...) that answered it, credited; the latest reply when left out.") var answer: String?

    func run() async throws {
        let question = try await options.client().resolve(id, note: note, answerId: answer)
        try options.show(question) { TerminalRenderer.summary(question, "resolved") }
    }
}

struct Reopen: QuestionActionCommand {
    static let configuration = CommandConfiguration(abstract: "Reopen a resolved question.")
    static let action = APIClient.QuestionAction.reopen
    static let verb = "reopened"
    @OptionGroup var options: ClientOptions
    @Argument(help: "The question id.") var id: String
}

struct Reply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reply to a question you hold; the text comes from the argument, or stdin when absent or '-'."
    )

    @OptionGroup var options: ClientOptions
    @Argument(help: "The question id.") var id: String
    @Argument(help: "The reply text.") var text: String?

    func run() async throws {
        let body = try replyText()
        let posted = try await options.client().reply(to: id, body: body)
        try options.show(posted) { TerminalRenderer.summary(posted.question, "replied to") }
    }

    func replyText() throws -> String {
        try argumentOrStdin(text, missing: "Give the reply as an argument or on stdin.")
    }
}

/// A text argument, or stdin when it is absent or '-'; `missing` is the error when stdin is empty too.
func argumentOrStdin(_ text: String?, missing: String) throws -> String {
    if let text, text != "-" { return text }
    let data = FileHandle.standardInput.readDataToEndOfFile()
    guard let text = String(data: data, encoding: .utf8), !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    else {
        throw PatenError.malformed("body_required", missing)
    }
    return text
}
