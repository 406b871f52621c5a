import ArgumentParser
import PatenApp
import PatenCLI
import PatenClient
import PatenCore
import PatenHTTP

struct HelpersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "helpers", abstract: "Manage helper and integration accounts in the database (SQLite, or PostgreSQL with db_url).",
        discussion: "With --remote, through a running server with an admin login instead: no shell on the database host needed.",
        subcommands: [Add.self, List.self, Update.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an account and print its first token alone on stdout."
        )

        @OptionGroup var options: ServerOptions
        @OptionGroup var remote: RemoteOptions
        @Option(help: "Unique handle: 2 to 32 letters, digits, '.', '_' or '-'.") var handle: String
        @Option(help: "volunteer, staff, admin or integration.") var role: Role
        @Option(help: "Display name (default: the handle).") var name: String?
        @Option(help: "Comma-separated topics.", transform: commaList) var skills: [String] = []
        @Option(help: "Comma-separated language codes.", transform: commaList) var languages: [String] = []
        @Option(help: "Most questions held at once (default from the policy).") var capacity: Int?

        func run() async throws {
            if remote.remote {
                let secret = try await remote.call { api in
                    let body = Components.Schemas.HelperCreate(
                        handle: handle, displayName: name, role: try wire(role), skills: skills, languages: languages,
                        capacity: capacity
                    )
                    let helper = try await api.createHelper(body: .json(body)).created.body.json
                    return try await api.issueToken(path: .init(id: helper.id), body: .json(.init(label: "cli"))).created.body.json.token
                }
                print(secret)
                return
            }
            try await options.withRuntime { runtime in
                let directory = runtime.directory
                let helper = try await directory.create(
                    NewHelper(
                        handle: handle, displayName: name, role: role, skills: skills, languages: languages,
                        capacity: capacity
                    )
                )
                print(try await directory.issueToken(for: helper.id, label: "cli").secret)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts.")

        @OptionGroup var options: ServerOptions
        @OptionGroup var remote: RemoteOptions
        @Option(help: "Only this role.") var role: Role?
        @Flag(help: "JSON instead of a table.") var json = false

        func run() async throws {
            if remote.remote {
                let helpers = try await remote.call { api in
                    try await api.listHelpers(query: .init(role: try role.map(wire))).ok.body.json.helpers
                }
                print(json ? try TerminalRenderer.json(helpers) : TerminalRenderer.helpers(helpers))
                return
            }
            try await options.withRuntime { runtime in
                let helpers = try await runtime.directory.list(role: role)
                print(
                    json
                        ? try TerminalRenderer.json(helpers.map(HelperResource.init))
                        : TerminalRenderer.helpers(try WireForm.of(helpers.map(HelperResource.init))))
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change an account.")

        @OptionGroup var options: ServerOptions
        @OptionGroup var remote: RemoteOptions
        @Argument(help: "The helper's id or handle.") var helper: String
        @Option(help: "Display name.") var name: String?
        @Option(help: "volunteer, staff, admin or integration.") var role: Role?
        @Option(help: "Comma-separated topics (replaces the list).", transform: commaList) var skills: [String]?
        @Option(help: "Comma-separated language codes (replaces the list).", transform: commaList)
        var languages: [String]?
        @Option(help: "Most questions held at once.") var capacity: Int?
        @Option(help: "available, away or offline.") var presence: Presence?
        @Option(help: "false locks the account out; true lets it back in.") var active: Bool?
        @Flag(help: "JSON instead of a table.") var json = false

        func run() async throws {
            if remote.remote {
                let updated = try await remote.call { api in
                    let change = Components.Schemas.HelperUpdate(
                        displayName: name, role: try role.map(wire), skills: skills, languages: languages, capacity: capacity,
                        presence: try presence.map(wire), active: active
                    )
                    return try await api.updateHelper(path: .init(id: helper), body: .json(change)).ok.body.json
                }
                print(json ? try TerminalRenderer.json(updated) : TerminalRenderer.helpers([updated]))
                return
            }
            try await options.withRuntime { runtime in
                let directory = runtime.directory
                let updated = try await directory.update(
                    helper,
                    HelperChange(
                        displayName: name, role: role, skills: skills, languages: languages, capacity: capacity,
                        presence: presence, active: active
                    )
                )
                print(
                    json
                        ? try TerminalRenderer.json(HelperResource(updated))
                        : TerminalRenderer.helpers(try WireForm.of([HelperResource(updated)])))
            }
        }
    }
}

struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens", abstract: "Issue, list and revoke tokens in the database.",
        discussion: "With --remote, through a running server with an admin login instead: no shell on the database host needed.",
        subcommands: [Issue.self, List.self, Revoke.self]
    )

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a token and print it alone on stdout.")

        @OptionGroup var options: ServerOptions
        @OptionGroup var remote: RemoteOptions
        @Argument(help: "The helper's id or handle.") var helper: String
        @Option(help: "A label to tell the token apart.") var label: String?

        func run() async throws {
            if remote.remote {
                let secret = try await remote.call { api in
                    try await api.issueToken(path: .init(id: helper), body: .json(.init(label: label))).created.body.json.token
                }
                print(secret)
                return
            }
            try await options.withRuntime { runtime in
                let directory = runtime.directory
                print(try await directory.issueToken(for: helper, label: label).secret)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")

        @OptionGroup var options: ServerOptions
        @OptionGroup var remote: RemoteOptions
        @Option(help: "Only this helper's (id or handle).") var helper: String?
        @Flag(help: "JSON instead of a table.") var json = false

        func run() async throws {
            if remote.remote {
                let tokens = try await remote.call { api in
                    let helperId = try await helper.asyncMap { try await api.getHelper(path: .init(id: $0)).ok.body.json.id }
                    return try await api.listTokens(query: .init(helperId: helperId)).ok.body.json.tokens
                }
                print(json ? try TerminalRenderer.json(tokens) : TerminalRenderer.tokens(tokens))
                return
            }
            try await options.withRuntime { runtime in
                let helperId = try await helper.asyncMap { try await runtime.directory.helper($0).id }
                let tokens = try await runtime.directory.allTokens(helperId: helperId)
                print(
                    json
                        ? try TerminalRenderer.json(tokens.map(TokenResource.init))
                        : TerminalRenderer.tokens(try WireForm.of(tokens.map(TokenResource.init))))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token at once.")

        @OptionGroup var options: ServerOptions
        @OptionGroup var remote: RemoteOptions
        @Argument(help: "The token id (tok_...).") var token: String

        func run() async throws {
            if remote.remote {
                let revoked = try await remote.call { api in try await api.revokeToken(path: .init(id: token)).ok.body.json }
                print("revoked \(revoked.id)")
                return
            }
            try await options.withRuntime { runtime in
                let directory = runtime.directory
                let revoked = try await directory.revokeToken(token)
                print("revoked \(revoked.id)")
            }
        }
    }
}

/// Splits "a, b,c" into ["a", "b", "c"].
func commaList(_ text: String) -> [String] {
    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}

extension Role: ExpressibleByArgument {}
extension Presence: ExpressibleByArgument {}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
