import Foundation
import Logging
import PatenCore
import PostgresNIO

/// Paten's schema on PostgreSQL: the migrations of Migrations/postgres (the same ids as Migrations/sqlite),
/// applied statement by statement in one transaction and recorded in `paten_migrations`.
///
/// The client's connection pool must be running (`PostgresClient.run()`, or `PostgresStore.with(_:_:)`).
public struct PostgresStore: Sendable, PatenStore, StoreDiagnostics {
    /// Serialises migration runs of every process on the database.
    static let migrationLock: Int64 = 0x7061_7465_6e00_0001
    /// Orders appends to the escalation change feed (see `appendChange`).
    static let changeFeedLock: Int64 = 0x7061_7465_6e00_0002

    public let client: PostgresClient
    let logger: Logger
    /// The database's URL without its password.
    public let location: String
    /// How many times in all a transaction is run when PostgreSQL aborts it for a serialization failure or a
    /// deadlock (see `transaction(_:)`).
    public let transactionAttempts: Int

    /// Creates the store over a client.
    public init(
        client: PostgresClient, location: String, logger: Logger = Logger(label: "paten-postgres"),
        transactionAttempts: Int = 5
    ) {
        self.client = client
        self.location = location
        self.logger = logger
        self.transactionAttempts = max(1, transactionAttempts)
    }

    /// How long the first connection may take before the database counts as unreachable.
    public static let connectTimeout: Duration = .seconds(10)

    /// Runs the body with a store whose pool runs for as long as the body does. A database that cannot be
    /// reached within `connectTimeout` is a `database_unavailable` error naming it (never its password).
    public static func with<T: Sendable>(
        _ url: DatabaseURL, connections: Int = 4, logger: Logger = Logger(label: "paten-postgres"),
        _ body: (PostgresStore) async throws -> T
    ) async throws -> T {
        var quiet = logger
        quiet.logLevel = .error
        let client = PostgresClient(
            configuration: try url.clientConfiguration(connections: connections), backgroundLogger: quiet
        )
        let store = PostgresStore(client: client, location: url.redacted, logger: quiet)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            do {
                try await store.checkConnection(within: connectTimeout)
            } catch {
                throw unavailable(url, error)
            }
            do {
                return try await body(store)
            } catch let error as PSQLError where error.meansUnavailable {
                throw unavailable(url, error)
            } catch let error as PSQLError {
                // A statement the server refused (permissions, say): its own words.
                throw PatenError(
                    .unavailable, code: "database_error",
                    message: "PostgreSQL at \(url.redacted) refused a statement: \(describe(error))."
                )
            }
        }
    }

    /// Waits for one answer from the server, at most `limit`.
    func checkConnection(within limit: Duration) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await client.query("SELECT 1", logger: logger)
                return true
            }
            group.addTask {
                try await Task.sleep(for: limit)
                return false
            }
            defer { group.cancelAll() }
            guard try await group.next() == true else {
                throw PatenError(
                    .unavailable, code: "database_unavailable", message: "no answer within \(limit)"
                )
            }
        }
    }

    static func unavailable(_ url: DatabaseURL, _ error: any Error) -> PatenError {
        let reason = (error as? PSQLError).map(describe) ?? (error as? PatenError)?.message ?? "\(error)"
        return PatenError(
            .unavailable, code: "database_unavailable",
            message: "PostgreSQL at \(url.redacted) cannot be used: \(reason). Check db_url and that the server runs."
        )
    }

    /// The migrations this build carries, in order.
    public static var migrationSources: [(id: String, sql: String)] {
        EmbeddedPostgresMigrations.all.map { ($0.id, $0.sql) }
    }

    /// Migration ids already applied.
    public func appliedMigrations() async throws -> [String] {
        let exists = try await client.query("SELECT to_regclass('paten_migrations') IS NOT NULL", logger: logger)
        for try await present in exists.decode(Bool.self) where !present { return [] }
        var ids: [String] = []
        for try await id in try await client.query("SELECT id FROM paten_migrations ORDER BY id", logger: logger)
            .decode(String.self)
        {
            ids.append(id)
        }
        return ids
    }

    /// Migration ids not applied yet.
    public func pendingMigrations() async throws -> [String] {
        let applied = Set(try await appliedMigrations())
        return Self.migrationSources.map(\.id).filter { !applied.contains($0) }
    }

    /// Applies every pending migration in one transaction, under a lock that makes concurrent runs wait for each
    /// other, and returns the ids it applied.
    @discardableResult
    public func migrate() async throws -> [String] {
        let sources = Self.migrationSources
        let logger = logger
        return try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS paten_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
                logger: logger
            )
            var applied: Set<String> = []
            for try await id in try await connection.query("SELECT id FROM paten_migrations", logger: logger)
                .decode(String.self)
            {
                applied.insert(id)
            }
            var done: [String] = []
            for migration in sources where !applied.contains(migration.id) {
                for statement in SQLScript.statements(migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                let now = Date().millisecondsSince1970
                try await connection.query(
                    "INSERT INTO paten_migrations (id, applied_at) VALUES (\(migration.id), \(now))", logger: logger
                )
                done.append(migration.id)
            }
            return done
        }
    }

    /// Whether the database answers and every migration is applied.
    public func isReady() async throws -> Bool {
        try await pendingMigrations().isEmpty
    }

    /// Runs the body in one transaction; the body's own error comes out as it was thrown. Every write of the
    /// store goes through here. A transaction PostgreSQL aborted for a serialization failure (40001) or a deadlock
    /// (40P01) changed nothing, so the body runs again, up to `transactionAttempts` times in all, after a short
    /// jittered wait; after the last it is a 503 `database_busy`. The body must therefore touch only the database.
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await retryingConflicts {
            do {
                return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
            } catch let error as PostgresTransactionError {
                // The body's own error, else why BEGIN or COMMIT failed (a lost connection, say).
                throw error.closureError ?? error.beginError ?? error.commitError ?? error
            }
        }
    }

    /// Runs the body (one transaction, or one statement outside any) again while PostgreSQL aborts it for a
    /// serialization failure or a deadlock, at most `transactionAttempts` times in all.
    func retryingConflicts<T>(_ body: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch let error as PSQLError where error.isTransientConflict {
                guard attempt < transactionAttempts else {
                    throw PatenError(
                        .unavailable, code: "database_busy",
                        message: "The database gave up on this change: concurrent changes to the same rows kept "
                            + "aborting it. Nothing was changed; send it again.",
                        details: ["retry_after": "1"]
                    )
                }
                logger.debug(
                    "transaction retried", metadata: ["sqlstate": "\(error.serverInfo?[.sqlState] ?? "")", "attempt": "\(attempt)"]
                )
                try await Task.sleep(for: Self.conflictBackoff(after: attempt))
                attempt += 1
            }
        }
    }

    /// The wait before the next try: 5, 10, 20, 40 ms and so on, each with up to as much again at random, so two
    /// transactions that collided do not collide again in step.
    static func conflictBackoff(after attempt: Int) -> Duration {
        let base = 5 << min(attempt - 1, 6)
        return .milliseconds(base + Int.random(in: 0...base))
    }

    /// A one-line account of a driver error: the server's message when there is one.
    static func describe(_ error: PSQLError) -> String {
        if let message = error.serverInfo?[.message] { return message }
        return "\(error.code)"
    }
}

/// Splits a migration file into statements: full-line `--` comments dropped, statements ended by `;` outside
/// dollar-quoted function bodies (`$$ ... $$`). (Migrations hold no quoted semicolons; a test keeps it so.)
public enum SQLScript {
    public static func statements(_ sql: String) -> [String] {
        let lines = sql.split(separator: "\n", omittingEmptySubsequences: false).filter {
            !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--")
        }
        let text = lines.joined(separator: "\n")
        var statements: [String] = []
        var current = ""
        var inBody = false
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "$", text[index...].hasPrefix("$$") {
                inBody.toggle()
                current += "$$"
                index = text.index(index, offsetBy: 2)
                continue
            }
            if character == ";" && !inBody {
                statements.append(current)
                current = ""
            } else {
                current.append(character)
            }
            index = text.index(after: index)
        }
        statements.append(current)
        return statements.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }
}
