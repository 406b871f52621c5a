import ArgumentParser
import Foundation
import OpenAPIRuntime
import PatenClient
import PatenCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `paten login`: checks a server URL and token, then saves them for the other client commands.
public struct Login: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
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

    public init() {}

    public func run() async throws {
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
        let me = try await APISession.call(credentials) { api in try await api.getMe().ok.body.json }
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

/// `paten logout`: forgets the saved login.
public struct Logout: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Forget the saved login (the token itself stays valid until revoked: paten tokens revoke)."
    )

    public init() {}

    public func run() async throws {
        if let path = try ClientCredentials.remove() {
            print("logged out; removed \(path)")
        } else {
            print("not logged in; nothing saved at \(ClientCredentials.filePath())")
        }
    }
}

/// `paten status`: which server and account the client commands use.
public struct StatusCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Which server and account the client commands use, and your role."
    )

    @OptionGroup var options: ClientOptions

    public init() {}

    /// `paten status --json`.
    struct Report: Encodable {
        var server: String
        var serverVersion: String?
        var account: String
        var name: String
        var role: String
        var credentials: String
    }

    public func run() async throws {
        let credentials = try options.credentials()
        let (me, version) = try await APISession.call(credentials) { api in
            let me = try await api.getMe().ok.body.json
            return (me, try? await api.healthz().ok.body.json.version)
        }
        let report = Report(
            server: credentials.url, serverVersion: version, account: me.handle, name: me.displayName,
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

/// `paten queue`: the questions the caller can claim now.
public struct Queue: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(abstract: "Questions you can claim now, best match first.")

    @OptionGroup var options: ClientOptions
    @Option(help: "Staff only: volunteer or staff.") var tier: Tier?
    @Option(help: "How many, 1 to 200.") var limit: Int?

    public init() {}

    public func run() async throws {
        let queue = try await options.call { api in
            try await api.getQueue(query: .init(tier: try tier.map(wire), limit: limit)).ok.body.json
        }
        try options.show(queue) { TerminalRenderer.questions(queue.questions, empty: "Your queue is empty.") }
    }
}

/// `paten show`: a question with its conversation and similar solved questions.
public struct Show: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "A question with its conversation, a page of messages at a time, and similar solved questions."
    )

    @OptionGroup var options: ClientOptions
    @Argument(help: "The question id.") var id: String
    @Option(help: "Start after this message id (the end of the previous page).") var after: String?
    @Option(help: "Messages per page, 1 to 500.") var limit: Int?

    public init() {}

    public func run() async throws {
        let questionID = try validID(id)
        let credentials = try options.credentials()
        let (detail, similar) = try await APISession.call(credentials) { api in
            let detail = try await api.getQuestion(
                path: .init(id: questionID), query: .init(messagesLimit: limit, messagesAfter: after)
            ).ok.body.json
            return (detail, await similarQuestions(api, questionID, server: credentials.url))
        }
        try options.show(ShownQuestion(detail: detail, similar: similar)) {
            [TerminalRenderer.detail(detail), similar.flatMap { TerminalRenderer.similar($0) }]
                .compactMap { $0 }.joined(separator: "\n\n")
        }
    }

    /// Similar solved questions; nil when the caller may not see them (403) or the server has none to offer (404).
    func similarQuestions(
        _ api: Client, _ questionID: String, server: String
    ) async -> Components.Schemas.SimilarList.SimilarPayload? {
        do {
            return try await api.listSimilarQuestions(path: .init(id: questionID)).ok.body.json.similar
        } catch {
            if let error = error as? ClientError, let refusal = error.underlyingError as? PatenAPIError,
                refusal.status == 403 || refusal.status == 404
            {
                return nil
            }
            // The question was read; a failure here only leaves out the extra.
            let failure = (error as? ClientError).map { APISession.failure($0, server: server).message } ?? "\(error)"
            let message = TerminalRenderer.safe(failure, multiline: true)
            FileHandle.standardError.write(Data("paten: no similar solved questions: \(message)\n".utf8))
            return nil
        }
    }
}

/// `paten show --json`: the question's detail as the API returns it, with a `similar` list added when there is one.
struct ShownQuestion: Encodable {
    var detail: Components.Schemas.QuestionDetail
    var similar: Components.Schemas.SimilarList.SimilarPayload?

    enum CodingKeys: String, CodingKey {
        case similar
    }

    func encode(to encoder: any Encoder) throws {
        try detail.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(similar, forKey: .similar)
    }
}

/// The actions on a question that take no body.
enum QuestionAction: Sendable {
    case claim, release, reopen

    /// Runs the action on the question and returns it as it stands after.
    func run(on id: String, with api: Client) async throws -> Components.Schemas.Question {
        let path = try validID(id)
        switch self {
        case .claim: return try await api.claimQuestion(path: .init(id: path)).ok.body.json
        case .release: return try await api.releaseQuestion(path: .init(id: path)).ok.body.json
        case .reopen: return try await api.reopenQuestion(path: .init(id: path)).ok.body.json
        }
    }
}

/// The commands that run one body-less action on a question.
protocol QuestionActionCommand: AsyncParsableCommand {
    static var action: QuestionAction { get }
    static var verb: String { get }
    var options: ClientOptions { get }
    var id: String { get }
}

extension QuestionActionCommand {
    public func run() async throws {
        let question = try await options.call { api in try await Self.action.run(on: id, with: api) }
        try options.show(question) { TerminalRenderer.summary(question, Self.verb) }
    }
}

/// `paten claim`.
public struct Claim: QuestionActionCommand {
    public static let configuration = CommandConfiguration(abstract: "Claim a question; it is yours until the lease runs out.")
    static let action = QuestionAction.claim
    static let verb = "claimed"
    @OptionGroup var options: ClientOptions
    @Argument(help: "The question id.") var id: String
    public init() {}
}

/// `paten release`.
public struct Release: QuestionActionCommand {
    public static let configuration = CommandConfiguration(abstract: "Give a claimed question back to the pool.")
    static let action = QuestionAction.release
    static let verb = "released"
    @OptionGroup var options: ClientOptions
    @Argument(help: "The question id.") var id: String
    public init() {}
}

/// `paten resolve`.
public struct Resolve: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Mark a question resolved (volunteers after replying; staff may resolve unanswered with --note)."
    )
    @OptionGroup var options: ClientOptions
    @Argument(help: "The question id.") var id: String
    @Option(help: "Why it is resolved; required when nobody has answered.") var note: String?
    @Option(help: "The helper reply (m_...) that answered it, credited; the latest reply when left out.") var answer: String?

    public init() {}

    public func run() async throws {
        let path = try validID(id)
        let body: Operations.ResolveQuestion.Input.Body? =
            note == nil && answer == nil ? nil : .json(.init(note: note, answerId: answer))
        let question = try await options.call { api in
            try await api.resolveQuestion(path: .init(id: path), body: body).ok.body.json
        }
        try options.show(question) { TerminalRenderer.summary(question, "resolved") }
    }
}

/// `paten reopen`.
public struct Reopen: QuestionActionCommand {
    public static let configuration = CommandConfiguration(abstract: "Reopen a resolved question.")
    static let action = QuestionAction.reopen
    static let verb = "reopened"
    @OptionGroup var options: ClientOptions
    @Argument(help: "The question id.") var id: String
    public init() {}
}

/// `paten reply`.
public struct Reply: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Reply to a question you hold; the text comes from the argument, or stdin when absent or '-'."
    )

    @OptionGroup var options: ClientOptions
    @Argument(help: "The question id.") var id: String
    @Argument(help: "The reply text.") var text: String?

    public init() {}

    public func run() async throws {
        let body = try replyText()
        let path = try validID(id)
        let posted = try await options.call { api in
            try await api.replyToQuestion(path: .init(id: path), body: .json(.init(body: body))).created.body.json
        }
        try options.show(posted) { TerminalRenderer.summary(posted.question, "replied to") }
    }

    func replyText() throws -> String {
        try argumentOrStdin(text, missing: "Give the reply as an argument or on stdin.")
    }
}

/// An id as given, refused at once when it cannot be one path segment: empty (that would name another route), or
/// `.` and `..` (dot segments, which a URL resolves away).
func validID(_ id: String, example: String = "q_abc123") throws -> String {
    guard !id.isEmpty, id != ".", id != ".." else {
        throw PatenError.malformed("invalid_id", "Give an id such as \(example).")
    }
    return id
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

extension Tier: ExpressibleByArgument {}
