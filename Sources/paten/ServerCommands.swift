import ArgumentParser
import Foundation
import PatenApp
import PatenCLI
import PatenCore

/// Settings shared by every command that opens the server's database (the data directory's SQLite file, or PostgreSQL when
/// `db_url` / `PATEN_DB_URL` is set). The listening address is separate (`ServeOptions`): only `serve` and `worker`
/// take it.
struct ServerOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Directory for the embedded database (PATEN_DATA_DIR; default ./data).")
    var dataDirectory: String?

    @Option(help: "Routing policy file (PATEN_POLICY; default Config/policy.json, else the built-in policy).")
    var policy: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (PATEN_LOG_LEVEL).")
    var logLevel: String?

    @Option(help: "Service config file (PATEN_CONFIG; default Config/paten.json when present).")
    var config: String?

    /// The settings, with these flags (and the listening address, when the command takes one) over environment and
    /// config file.
    func load(host: String? = nil, port: Int? = nil) async throws -> PatenConfiguration {
        try await PatenConfiguration.load(
            PatenConfiguration.Overrides(
                host: host, port: port, dataDirectory: dataDirectory, policyPath: policy, logLevel: logLevel,
                configFile: config
            )
        )
    }
}

/// The database settings plus where the service listens: only `serve` and `worker` take the address (the worker for
/// the default base of rating links, `public_url`).
struct ServeOptions: ParsableArguments {
    @Option(help: "Address to listen on (PATEN_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one (PATEN_PORT; default 8080).")
    var port: Int?

    @OptionGroup var database: ServerOptions

    var dataDirectory: String? { database.dataDirectory }
    var logLevel: String? { database.logLevel }

    /// The settings, with these flags over environment and config file.
    func load() async throws -> PatenConfiguration {
        try await database.load(host: host, port: port)
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP service and its background work (on the embedded database unless db_url is set)."
    )

    @OptionGroup var options: ServeOptions
    @Flag(help: "On PostgreSQL, apply pending migrations before serving instead of refusing to start (db_migrate).")
    var migrate = false

    func run() async throws {
        var configuration = try await options.load()
        if migrate { configuration.migrateOnStart = true }
        try await runServer(configuration)
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations.")

    @OptionGroup var options: ServerOptions

    func run() async throws {
        let configuration = try await options.load()
        let (database, applied) = try await migrateDatabase(configuration)
        let done = applied.isEmpty ? "nothing to apply" : "applied \(applied.joined(separator: ", "))"
        print("\(database): \(done); the schema is current")
    }
}

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Work with routing policy files.", subcommands: [Check.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate a policy file and summarise it.")

        @Argument(help: "The policy file.")
        var file: String

        func run() throws {
            let policy = try PolicyFile.load(file)
            print(
                "\(file): ok (\(policy.topics.count) topics, \(policy.staffOnlyTopics.count) staff-only, "
                    + "\(policy.languages.count) languages)"
            )
        }
    }
}

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run only the background work (lease expiry, escalation sweeper, webhook delivery), no HTTP."
    )

    @OptionGroup var options: ServeOptions
    @Flag(help: "On PostgreSQL, apply pending migrations before working instead of refusing to start (db_migrate).")
    var migrate = false

    func run() async throws {
        var configuration = try await options.load()
        if migrate { configuration.migrateOnStart = true }
        try await runWorker(configuration)
    }
}

struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev", abstract: "Benchmark helpers: seed a database, time a sweep, time contact masking.",
        subcommands: [Seed.self, Sweep.self, Mask.self]
    )

    struct Seed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write open questions straight into the database.")

        @OptionGroup var options: ServerOptions
        @Option(help: "How many open questions.") var questions: Int
        @Option(name: .customLong("due-percent"), help: "Share whose peer window has run out.") var duePercent: Double = 1
        @Flag(
            name: .customLong("spread-due"),
            help: "Make every n-th question due instead of the oldest (the worst case for the sweep's page reads)."
        ) var spreadDue = false

        func validate() throws {
            guard questions > 0, (0...100).contains(duePercent) else {
                throw ValidationError("--questions must be positive and --due-percent from 0 to 100.")
            }
        }

        func run() async throws {
            print(try await seed())
        }

        /// DevTools.seed, with progress on stderr (rows written, read back while the batches commit) when stderr
        /// is a terminal.
        func seed() async throws -> String {
            let configuration = try await options.load()
            guard Progress.isTerminal else {
                return try await DevTools.seed(configuration, count: questions, duePercent: duePercent, spread: spreadDue)
            }
            return try await PatenRuntime.with(configuration) { runtime in
                _ = try await runtime.directory.bootstrapAdminIfEmpty()
                let admin = try await runtime.directory.helper(HelperDirectory.bootstrapHandle)
                let (count, spread) = (questions, spreadDue)
                let due = Int((Double(count) * duePercent / 100).rounded())
                let before = try await runtime.store.count("SELECT COUNT(*) FROM questions", [])
                let progress = Progress(total: count, unit: "questions")
                let started = ContinuousClock.now
                let written = try await withThrowingTaskGroup(of: Int?.self) { group in
                    group.addTask {
                        try await runtime.store.seedOpenQuestions(
                            count: count, dueCount: due, spread: spread, createdBy: admin.id, at: runtime.clock.now()
                        )
                    }
                    group.addTask {
                        while !Task.isCancelled {
                            try? await Task.sleep(for: .seconds(1))
                            if let now = try? await runtime.store.count("SELECT COUNT(*) FROM questions", []) {
                                progress.update(done: now - before)
                            }
                        }
                        return nil
                    }
                    var result = 0
                    if let first = try await group.next(), let count = first { result = count }
                    group.cancelAll()
                    return result
                }
                progress.finish()
                return "seeded \(written) open questions (\(due) due) in \(ContinuousClock.now - started)"
            }
        }
    }

    struct Sweep: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run one escalation sweep pass and time it.")

        @OptionGroup var options: ServerOptions

        func run() async throws {
            print(try await DevTools.sweepOnce(try await options.load()))
        }
    }

    struct Mask: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mask stdin as a volunteer would see it; with --repeat, print the time per call on stderr."
        )

        @Option(help: "Mask the text this many times and print the mean time per call in microseconds on stderr.")
        var `repeat`: Int?

        func validate() throws {
            guard (`repeat` ?? 1) > 0 else { throw ValidationError("--repeat must be positive.") }
        }

        func run() throws {
            let text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            let masker = ContactMasker()
            let calls = `repeat` ?? 1
            var masked = ""
            let started = ContinuousClock.now
            for _ in 0..<calls { masked = masker.mask(text) }
            let elapsed = (ContinuousClock.now - started) / calls
            FileHandle.standardOutput.write(Data(masked.utf8))
            guard `repeat` != nil else { return }
            let micros = Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
            let line = String(format: "%.1f us per call (%d bytes, %d calls)\n", micros, text.utf8.count, calls)
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}

extension ServerOptions {
    /// Runs the body with the runtime over the configured database (SQLite, or PostgreSQL when db_url is set).
    func withRuntime<T: Sendable>(_ body: (PatenRuntime) async throws -> T) async throws -> T {
        try await PatenRuntime.with(try await load(), body)
    }
}
