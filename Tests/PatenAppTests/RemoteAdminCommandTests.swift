import ArgumentParser
import Foundation
import PatenApp
import PatenCore
import PatenTestSupport
import Testing

@testable import PatenCLI
@testable import paten

/// The admin commands with `--remote`, run as the built `paten` binary against a live server with PATEN_URL and
/// PATEN_TOKEN, as an operator without a shell on the database host would.
@Suite("Admin commands against a running server (--remote)")
struct RemoteAdminCommandTests {
    /// The environment of an operator logged in with `token` at the server on `port`.
    static func login(_ environment: [String: String], port: Int, token: String) -> [String: String] {
        environment.merging(["PATEN_URL": "http://127.0.0.1:\(port)", "PATEN_TOKEN": token]) { _, new in new }
    }

    @Test("--url and --token need --remote; --remote parses on every admin command")
    func parsing() throws {
        #expect(throws: (any Error).self) { try Paten.parseAsRoot(["helpers", "list", "--url", "http://h:1"]) }
        let list = try #require(try Paten.parseAsRoot(["helpers", "list", "--remote", "--url", "http://h:1"]) as? HelpersCommand.List)
        #expect(list.remote.remote && list.remote.url == "http://h:1")
        let revoke = try #require(
            try Paten.parseAsRoot(["tokens", "revoke", "tok_1", "--remote", "--token", "pat_admin"]) as? TokensCommand.Revoke
        )
        #expect(revoke.token == "tok_1" && revoke.remote.token == "pat_admin")
        for command in [["integrations", "show", "x"], ["integrations", "redeliver", "msg_1"], ["tokens", "issue", "vera"]] {
            #expect(throws: Never.self) { try Paten.parseAsRoot(command + ["--remote"]) }
        }
    }

    @Test("helpers and tokens: add prints a working token, list, update, issue and revoke", arguments: Backend.available)
    func helpersAndTokens(backend: Backend) async throws {
        try await withLiveServer(backend: backend) { env, port in
            let admin = try await env.account("root", .admin)
            try await withConfigHome { home in
                let environment = Self.login(home, port: port, token: admin.token)

                // An account made remotely gets a token that the server accepts.
                let add = try await runBinary(
                    ["helpers", "add", "--remote", "--handle", "vera", "--role", "volunteer", "--skills", "roaming, billing"],
                    environment: environment
                )
                #expect(add.status == 0, "\(add.stderr)")
                let token = add.stdout.trimmingCharacters(in: .newlines)
                #expect(!token.isEmpty && !token.contains("\n"))
                let status = try await runBinary(["status"], environment: Self.login(home, port: port, token: token))
                #expect(status.status == 0, "\(status.stderr)")
                #expect(status.stdout.contains("account: vera"), "\(status.stdout)")

                let list = try await runBinary(["helpers", "list", "--remote", "--role", "volunteer"], environment: environment)
                #expect(list.status == 0, "\(list.stderr)")
                #expect(list.stdout.hasPrefix("ID") && list.stdout.contains("vera") && list.stdout.contains("roaming,billing"))
                #expect(!list.stdout.contains("root"))
                let json = try await runBinary(["helpers", "list", "--remote", "--json"], environment: environment)
                let accounts = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
                #expect(Set(accounts?.compactMap { $0["handle"] as? String } ?? []) == ["root", "vera"], "\(json.stdout)")

                let update = try await runBinary(["helpers", "update", "vera", "--remote", "--capacity", "2"], environment: environment)
                #expect(update.status == 0, "\(update.stderr)")
                let stored = try await env.directoryService.helper("vera")
                #expect(stored.capacity == 2)

                // A second token, listed without its secret, then revoked: the server refuses it afterwards.
                let issue = try await runBinary(["tokens", "issue", "vera", "--remote", "--label", "laptop"], environment: environment)
                #expect(issue.status == 0, "\(issue.stderr)")
                let second = issue.stdout.trimmingCharacters(in: .newlines)
                let tokens = try await runBinary(["tokens", "list", "--remote", "--helper", "vera"], environment: environment)
                #expect(tokens.stdout.contains("laptop") && tokens.stdout.contains("cli") && !tokens.stdout.contains(second))
                let laptop = try #require(
                    try await env.directoryService.allTokens(helperId: stored.id).first { $0.label == "laptop" }
                )
                let revoke = try await runBinary(["tokens", "revoke", laptop.id, "--remote"], environment: environment)
                #expect(revoke.status == 0 && revoke.stdout == "revoked \(laptop.id)\n", "\(revoke.stderr)")
                let refused = try await runBinary(["status"], environment: Self.login(home, port: port, token: second))
                #expect(refused.status == CLIExit.authentication)
            }
        }
    }

    @Test("A non-admin login exits 3 with the server's message; an unknown helper 4; no server 6", arguments: Backend.available)
    func failures(backend: Backend) async throws {
        try await withLiveServer(backend: backend) { env, port in
            let admin = try await env.account("root", .admin)
            let volunteer = try await env.account("vera", .volunteer)
            try await withConfigHome { home in
                let forbidden = try await runBinary(
                    ["helpers", "list", "--remote"], environment: Self.login(home, port: port, token: volunteer.token)
                )
                #expect(forbidden.status == CLIExit.authentication)
                #expect(forbidden.stderr.hasPrefix("paten: This needs the role admin"), "\(forbidden.stderr)")
                let adding = try await runBinary(
                    ["integrations", "add", "--remote", "--name", "bridge", "--kind", "standard"],
                    environment: Self.login(home, port: port, token: volunteer.token)
                )
                #expect(adding.status == CLIExit.authentication)

                let environment = Self.login(home, port: port, token: admin.token)
                let unknown = try await runBinary(["helpers", "update", "nobody", "--remote", "--capacity", "2"], environment: environment)
                #expect(unknown.status == CLIExit.notFound)
                #expect(unknown.stderr.contains("nobody"), "\(unknown.stderr)")
                #expect(
                    try await runBinary(["tokens", "issue", "nobody", "--remote"], environment: environment).status == CLIExit.notFound)
                let taken = try await runBinary(
                    ["helpers", "add", "--remote", "--handle", "vera", "--role", "staff"], environment: environment)
                #expect(taken.status == CLIExit.conflict, "\(taken.stderr)")
                #expect(taken.stdout.isEmpty)

                let unreachable = try await runBinary(
                    ["helpers", "list", "--remote", "--url", "http://127.0.0.1:1", "--token", admin.token], environment: home
                )
                #expect(unreachable.status == CLIExit.unavailable)
                #expect(unreachable.stderr.hasPrefix("paten: Cannot reach"), "\(unreachable.stderr)")
            }
        }
    }

    @Test("integrations: add, list, show, update, rotate, disable, enable, deliveries and redeliver", arguments: Backend.available)
    func integrations(backend: Backend) async throws {
        try await withLiveServer(backend: backend) { env, port in
            let admin = try await env.account("root", .admin)
            try await withConfigHome { home in
                let environment = Self.login(home, port: port, token: admin.token)
                func run(_ arguments: [String]) async throws -> BinaryRun {
                    let result = try await runBinary(["integrations"] + arguments + ["--remote"], environment: environment)
                    #expect(result.status == 0, "\(arguments): \(result.stderr)")
                    return result
                }

                let add = try await run([
                    "add", "--name", "bridge", "--kind", "standard", "--outbound-url", "http://127.0.0.1:9/hook", "--events",
                    "question.created",
                ])
                let lines = add.stdout.split(separator: "\n")
                #expect(lines.first?.hasPrefix("integration int_") == true && lines.count == 2, "\(add.stdout)")
                let secret = try #require(lines.last?.split(separator: " ").last.map(String.init))
                #expect(secret.hasPrefix("whsec_"), "\(add.stdout)")
                let stored = try await env.runtime.integrations.integration("bridge")
                #expect(stored.events == [.questionCreated])

                #expect(try await run(["list"]).stdout.contains("bridge"))
                let show = try await run(["show", "bridge"])
                #expect(show.stdout.contains("inbound: on at POST /hooks/\(stored.id)") && show.stdout.contains("audit:"))
                #expect(show.stdout.contains("events: question.created about its own questions"), "\(show.stdout)")
                _ = try await run(["update", "bridge", "--all-channels", "true", "--inbound", "false"])
                let updated = try await env.runtime.integrations.integration("bridge")
                #expect(updated.allChannels && !updated.inboundEnabled)

                let rotated = try await run(["rotate-secret", "bridge", "--overlap", "60"])
                let newSecret = rotated.stdout.trimmingCharacters(in: .newlines)
                #expect(newSecret.hasPrefix("whsec_") && newSecret != secret)
                #expect(try await run(["revoke-previous", "bridge"]).stdout == "ended 1 previous secret(s)\n")

                #expect(try await run(["disable", "bridge"]).stdout.contains("disabled"))
                #expect(try await env.runtime.integrations.integration("bridge").state == .disabled)
                #expect(try await run(["enable", "bridge"]).stdout.contains("active"))
                #expect(try await env.runtime.integrations.integration("bridge").state == .active)

                #expect(try await run(["deliveries", "bridge", "--dead"]).stdout == "no deliveries\n")
                let missing = try await runBinary(["integrations", "redeliver", "msg_nothing", "--remote"], environment: environment)
                #expect(missing.status == CLIExit.notFound, "\(missing.stderr)")
                let removal = try await runBinary(
                    ["integrations", "update", "bridge", "--outbound-url", "", "--remote"], environment: environment
                )
                #expect(removal.status == CLIExit.usage && removal.stderr.contains("disable --outbound"), "\(removal.stderr)")
            }
        }
    }
}
