import ArgumentParser
import Foundation
import PatenApp
import PatenCore
import PatenTestSupport
import Synchronization
import Testing

@testable import PatenCLI
@testable import paten

/// Runs a command line in-process as `paten` would and returns its exit code (`CLIExit`).
private func exitStatus(_ arguments: [String]) async -> Int32 {
    do {
        var command = try Paten.parseAsRoot(arguments)
        if var asyncCommand = command as? any AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try command.run()
        }
        return CLIExit.success
    } catch {
        return CLIExit.status(for: error)
    }
}

/// What a run of the built `paten` binary printed, and its exit code.
struct BinaryRun {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs the built binary (`.build/debug/paten`, made by `swift build --build-tests`) with stdin and environment.
func runBinary(_ arguments: [String], stdin: String = "", environment: [String: String]) async throws -> BinaryRun {
    let binary = repositoryRoot.appendingPathComponent(".build/debug/paten")
    try #require(FileManager.default.isExecutableFile(atPath: binary.path), "build the paten binary first")
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.environment = environment
    let (input, output, errors) = (Pipe(), Pipe(), Pipe())
    process.standardInput = input
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    input.fileHandleForWriting.write(Data(stdin.utf8))
    try input.fileHandleForWriting.close()
    let outData = Mutex(Data())
    let errData = Mutex(Data())
    let readers = [
        Thread { outData.withLock { $0 = output.fileHandleForReading.readDataToEndOfFile() } },
        Thread { errData.withLock { $0 = errors.fileHandleForReading.readDataToEndOfFile() } },
    ]
    readers.forEach { $0.start() }
    let deadline = ContinuousClock.now.advanced(by: .seconds(60))
    while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
    if process.isRunning { process.terminate() }
    while readers.contains(where: { !$0.isFinished }) { try await Task.sleep(for: .milliseconds(10)) }
    return BinaryRun(
        status: process.terminationStatus, stdout: String(decoding: outData.withLock { $0 }, as: UTF8.self),
        stderr: String(decoding: errData.withLock { $0 }, as: UTF8.self)
    )
}

/// A fresh, empty config home for a saved login.
func withConfigHome(_ body: ([String: String]) async throws -> Void) async throws {
    let home = FileManager.default.temporaryDirectory.appendingPathComponent("paten-cli-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: home) }
    try await body(["XDG_CONFIG_HOME": home, "HOME": home, "PATH": "/usr/bin:/bin"])
}

@Suite("CLI conventions")
struct CLIConventionsTests {
    @Test("--version prints PatenVersion.current; /healthz reports it too")
    func version() async throws {
        let error = #expect(throws: (any Error).self) { try Paten.parseAsRoot(["--version"]) }
        let thrown = try #require(error)
        #expect(Paten.fullMessage(for: thrown) == PatenVersion.current)
        #expect(CLIExit.status(for: thrown) == CLIExit.success)
        #expect(PatenVersion.userAgent == "paten/\(PatenVersion.current)")
        try await withAPI { _, client in
            let health = try await client.call(.get, "/healthz")
            #expect(health.string("status") == "ok")
            #expect(health.string("version") == PatenVersion.current)
        }
    }

    @Test("Failures exit by kind: usage 2, authentication 3, not found 4, conflict 5, unreachable 6")
    func exitCodes() async throws {
        #expect(await exitStatus(["claim"]) == CLIExit.usage)
        #expect(await exitStatus(["queue", "--limit", "many"]) == CLIExit.usage)
        try await withLiveServer { env, port in
            let base = "http://127.0.0.1:\(port)"
            let staff = try await env.account("sam", .staff)
            let question = try await env.submit("Roaming in Spain does not work", by: staff.helper)
            let client = ["--url", base, "--token", staff.token]
            #expect(await exitStatus(["me", "--url", base, "--token", "pat_not_a_real_token"]) == CLIExit.authentication)
            #expect(await exitStatus(["show", "q_doesnotexist"] + client) == CLIExit.notFound)
            #expect(await exitStatus(["release", question.id] + client) == CLIExit.conflict)
            #expect(await exitStatus(["claim", question.id] + client) == CLIExit.success)
        }
        #expect(await exitStatus(["me", "--url", "http://127.0.0.1:1", "--token", "pat_x"]) == CLIExit.unavailable)
        #expect(CLIExit.status(for: PatenError.forbidden("x", "y")) == CLIExit.authentication)
        #expect(CLIExit.status(for: PatenError(.tooManyRequests, code: "x", message: "y")) == CLIExit.unavailable)
        #expect(CLIExit.status(for: PatenError.unprocessable("x", "y")) == CLIExit.failure)
    }

    @Test("The binary exits with the codes, and paten help lists them")
    func binaryExitCodes() async throws {
        try await withConfigHome { environment in
            #expect(try await runBinary(["no-such-command"], environment: environment).status == CLIExit.usage)
            #expect(try await runBinary(["queue"], environment: environment).status == CLIExit.authentication)
            let unreachable = try await runBinary(["me", "--url", "http://127.0.0.1:1", "--token", "pat_x"], environment: environment)
            #expect(unreachable.status == CLIExit.unavailable)
            #expect(unreachable.stderr.hasPrefix("paten: Cannot reach"))
            let version = try await runBinary(["--version"], environment: environment)
            #expect(version.status == 0 && version.stdout == PatenVersion.current + "\n")
        }
        let help = Paten.helpMessage()
        #expect(help.contains("Exit codes:"))
        for code in 2...6 { #expect(help.contains("  \(code)  "), "exit code \(code) in paten help") }
    }

    @Test("login --token - reads the token from stdin; status and logout use the saved login")
    func loginFromStdin() async throws {
        let pipe = Pipe()
        pipe.fileHandleForWriting.write(Data("pat_from_stdin\nthe rest\n".utf8))
        try pipe.fileHandleForWriting.close()
        #expect(try TokenInput.read(option: "-", input: pipe.fileHandleForReading, isTerminal: false) == "pat_from_stdin")
        let empty = Pipe()
        try empty.fileHandleForWriting.close()
        #expect(throws: ValidationError.self) {
            try TokenInput.read(option: nil, input: empty.fileHandleForReading, isTerminal: false)
        }
        #expect(try TokenInput.read(option: "pat_literal", input: empty.fileHandleForReading, isTerminal: false) == "pat_literal")

        try await withLiveServer { env, port in
            let vera = try await env.account("vera", .volunteer)
            try await withConfigHome { environment in
                let base = "http://127.0.0.1:\(port)"
                let login = try await runBinary(
                    ["login", "--url", base, "--token", "-"], stdin: vera.token + "\n", environment: environment
                )
                #expect(login.status == 0, "\(login.stderr)")
                #expect(login.stdout.hasPrefix("logged in as vera (volunteer)"))
                #expect(!login.stderr.contains(vera.token))
                #expect(try ClientCredentials.load(environment: environment) == ClientCredentials(url: base, token: vera.token))
                // Without --token and without a terminal, the first line of stdin is the token too.
                let piped = try await runBinary(["login", "--url", base], stdin: vera.token + "\n", environment: environment)
                #expect(piped.status == 0, "\(piped.stderr)")
                let status = try await runBinary(["status"], environment: environment)
                #expect(status.status == 0, "\(status.stderr)")
                #expect(status.stdout.contains("server: \(base) (paten \(PatenVersion.current))"))
                #expect(status.stdout.contains("account: vera"))
                #expect(status.stdout.contains("role: volunteer"))
                let logout = try await runBinary(["logout"], environment: environment)
                #expect(logout.status == 0)
                #expect(throws: (any Error).self) { try ClientCredentials.load(environment: environment) }
                #expect(try await runBinary(["status"], environment: environment).status == CLIExit.authentication)
                let refused = try await runBinary(
                    ["login", "--url", base, "--token", "-"], stdin: "pat_wrong\n", environment: environment
                )
                #expect(refused.status == CLIExit.authentication)
            }
        }
    }

    @Test("Subcommands list only the options they use")
    func optionGroups() throws {
        let seed = Paten.helpMessage(for: DevCommand.Seed.self)
        #expect(!seed.contains("--host") && !seed.contains("--port"))
        #expect(seed.contains("--data-dir"))
        #expect(!Paten.helpMessage(for: HelpersCommand.Add.self).contains("--port"))
        #expect(!Paten.helpMessage(for: Migrate.self).contains("--host"))
        let serve = Paten.helpMessage(for: Serve.self)
        #expect(serve.contains("--host") && serve.contains("--port") && serve.contains("--data-dir"))
        #expect(!Paten.helpMessage(for: Logout.self).contains("--token"))
    }

    @Test("--generate-completion-script bash names the subcommands")
    func completions() throws {
        let bash = Paten.completionScript(for: .bash)
        for name in ["serve", "login", "logout", "status", "queue", "escalations", "incidents", "metrics", "dev"] {
            #expect(bash.contains(name), "\(name) in the bash completion script")
        }
        #expect(Paten.completionScript(for: .zsh).contains("logout"))
        #expect(Paten.completionScript(for: .fish).contains("logout"))
    }

    @Test("Progress shows rows, rate and time left, and nothing when stderr is not a terminal")
    func progressLine() {
        let line = Progress.line(done: 250, total: 1000, unit: "rows", elapsed: .seconds(5))
        #expect(line == "250 of 1000 rows, 50/s, about 15 s left")
        #expect(Progress.line(done: 10, total: nil, unit: "rows", elapsed: .seconds(2)) == "10 rows, 5/s")
        #expect(Progress.remaining(150) == "3 min")
        #expect(Progress.remaining(7500) == "2 h 5 min")
        // Disabled (as when stderr is not a terminal), update and finish write nothing and do not fail.
        let quiet = Progress(total: 10, unit: "rows", enabled: false)
        quiet.update(done: 5)
        quiet.finish()
    }

    @Test("PatenCLI, the client commands, links no server module, directly or through another target")
    func clientLinksNoServer() throws {
        // Given the package as SwiftPM reads it (a scratch path of its own, so it never waits for the build's lock)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("paten-dump-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "package", "dump-package", "--package-path", repositoryRoot.path, "--scratch-path", scratch.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "swift package dump-package failed")
        let package = try JSONDecoder().decode(DumpedPackage.self, from: data)
        let targets = Dictionary(package.targets.map { ($0.name, $0.targetDependencies) }, uniquingKeysWith: { first, _ in first })

        // When PatenCLI's target dependencies are followed to the end
        var reached: Set<String> = []
        var pending = targets["PatenCLI"] ?? []
        try #require(targets["PatenCLI"] != nil, "no target PatenCLI in Package.swift")
        while let next = pending.popLast() {
            guard reached.insert(next).inserted else { continue }
            pending += targets[next] ?? []
        }

        // Then none of them is a server module
        let server: Set = ["PatenApp", "PatenHTTP", "PatenStorage", "PatenPostgres", "PatenWebhooks"]
        #expect(reached.isDisjoint(with: server), "PatenCLI reaches \(reached.intersection(server).sorted())")
    }
}

/// The part of `swift package dump-package` the dependency check reads.
private struct DumpedPackage: Decodable {
    struct Target: Decodable {
        var name: String
        var dependencies: [[String: [String?]]]

        /// Names of the package's own targets this one depends on (`byName` and `target`; products are other packages').
        var targetDependencies: [String] {
            dependencies.compactMap { dependency in (dependency["byName"] ?? dependency["target"])?.first ?? nil }
        }
    }

    var targets: [Target]
}

@Suite("Saved logins")
struct SavedLoginTests {
    @Test("The saved token goes only to the server it was saved for; another URL needs its own token")
    func tokenStaysWithItsServer() async throws {
        try await withConfigHome { environment in
            _ = try ClientCredentials(url: "http://paten.example:8080/", token: "pat_saved").save(environment: environment)
            #expect(try ClientCredentials.resolve(environment: environment).token == "pat_saved")
            #expect(try ClientCredentials.resolve(url: "http://paten.example:8080", environment: environment).token == "pat_saved")
            let elsewhere = #expect(throws: PatenError.self) {
                _ = try ClientCredentials.resolve(url: "http://attacker.example", environment: environment)
            }
            #expect(elsewhere?.code == "not_logged_in")
            var pointed = environment
            pointed["PATEN_URL"] = "http://attacker.example"
            #expect(throws: PatenError.self) { _ = try ClientCredentials.resolve(environment: pointed) }
            #expect(
                try ClientCredentials.resolve(url: "http://other.example", token: "pat_other", environment: environment).token
                    == "pat_other")
        }
    }
}
