import Foundation
import GRDB
import PatenCore

/// Paten's embedded database: one SQLite file in WAL mode through a GRDB `DatabasePool`.
///
/// It implements every repository protocol of PatenCore. Each write method is one transaction that reads the
/// state it needs, applies the rules of `QuestionRules`, and writes the change with its timeline events.
public struct SQLiteStore: Sendable, PatenStore, StoreDiagnostics {
    let pool: SQLitePool
    /// The database file.
    public let location: String

    /// Opens (creating if needed) the database file at the path. It does not migrate; call `migrate()`.
    public init(path: String) throws {
        location = path
        var configuration = Configuration()
        // Other processes (the admin CLI) may write while the server runs; wait for them rather than fail.
        configuration.busyMode = .timeout(10)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            // WAL with NORMAL: a commit survives the process being killed (the crash test checks it); a power
            // loss may drop the last commits, never corrupt the file. See docs/deployment.md.
            try db.run(sql: "PRAGMA synchronous = NORMAL")
            // The one writer gets a 32 MiB page cache (readers keep SQLite's 2 MiB): a sweep or a burst of intake
            // touches many scattered pages, and spilling them mid-transaction doubles the writes.
            if !db.configuration.readonly {
                try db.run(sql: "PRAGMA cache_size = -32768")
                // Each change of a group commit has a savepoint, whose undo pages go to a sub-journal: keep it in
                // memory rather than in a temporary file.
                try db.run(sql: "PRAGMA temp_store = MEMORY")
                // Erased and purged texts (docs/privacy.md) must not stay readable in the file's free space: what a
                // write deletes or shrinks is overwritten with zeros.
                try db.run(sql: "PRAGMA secure_delete = ON")
            }
        }
        do {
            pool = SQLitePool(base: try DatabasePool(path: path, configuration: configuration))
        } catch {
            throw PatenError(
                .unavailable, code: "database_unavailable",
                message: "Cannot open the SQLite database at \(path): \(error). Check the data directory."
            )
        }
    }

    /// Applies every pending migration and returns the ids it applied.
    @discardableResult
    public func migrate() async throws -> [String] {
        let migrator = DatabaseMigrator.paten
        let before = try await pool.read { db in try migrator.appliedIdentifiers(db) }
        try migrator.migrate(pool.base)
        return migrator.migrations.filter { !before.contains($0) }
    }

    /// The migrations this build carries, in order.
    public static var migrationSources: [(id: String, sql: String)] {
        EmbeddedMigrations.sqlite.map { ($0.id, $0.sql) }
    }

    /// Migration ids not applied yet.
    public func pendingMigrations() async throws -> [String] {
        let migrator = DatabaseMigrator.paten
        let applied = try await pool.read { db in try migrator.appliedIdentifiers(db) }
        return migrator.migrations.filter { !applied.contains($0) }
    }

    /// Runs a read-only SQL statement that returns one integer; for tests and diagnostics.
    public func count(_ sql: String, _ values: [String]) async throws -> Int {
        try await pool.read { db in
            try db.fetchOne(Int.self, sql: sql, arguments: StatementArguments(values)) ?? 0
        }
    }

    /// Checks the file with `PRAGMA integrity_check`; returns "ok" when sound.
    public func integrityCheck() async throws -> String {
        try await pool.read { db in try db.fetchOne(String.self, sql: "PRAGMA integrity_check") ?? "no answer" }
    }
}

/// The store's database pool, through which every read and write passes: SQLite's failures that a later try may
/// not meet (busy or locked past the busy timeout, a full disk, an I/O error, a file it cannot open or write)
/// become 503 errors with a `retry_after`, instead of unexplained 500s.
struct SQLitePool: Sendable {
    let base: DatabasePool
    /// Every write goes through it: changes waiting together commit together.
    let writer: GroupCommitWriter

    init(base: DatabasePool) {
        self.base = base
        self.writer = GroupCommitWriter(pool: base)
    }

    /// Runs the body on a reader, in one snapshot.
    func read<T: Sendable>(_ value: @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await base.read(value)
        } catch let error as DatabaseError {
            throw Self.translated(error)
        }
    }

    /// Runs the body in a write transaction (shared with the changes that wait with it, each in its own savepoint:
    /// see `GroupCommitWriter`); returns once it is committed.
    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await writer.write(updates)
        } catch let error as DatabaseError {
            throw Self.translated(error)
        }
    }

    /// A `PatenError` for a failure of the database rather than of the statement; any other error as it was.
    static func translated(_ error: DatabaseError) -> any Error {
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            PatenError(
                .unavailable, code: "database_busy",
                message: "The database is busy with other writes; try again in a moment.", details: ["retry_after": "1"]
            )
        case .SQLITE_FULL:
            PatenError(
                .unavailable, code: "database_unavailable",
                message: "The database cannot store more data right now (its disk is full); try again later.",
                details: ["retry_after": "30"]
            )
        case .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_NOMEM, .SQLITE_PROTOCOL:
            PatenError(
                .unavailable, code: "database_unavailable",
                message: "The database cannot be read or written right now; try again shortly.",
                details: ["retry_after": "5"]
            )
        default:
            error
        }
    }
}

extension DatabaseMigrator {
    /// Applied migration ids, or none when the database is new.
    func appliedIdentifiers(_ db: Database) throws -> Set<String> {
        try db.tableExists("grdb_migrations") ? Set(appliedMigrations(db)) : []
    }
}

extension DatabaseError {
    /// Whether the error is a UNIQUE constraint violation.
    var isUniqueViolation: Bool { extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE }

    /// Whether the one-live-claim-per-question index refused a second claim.
    var isSecondClaim: Bool { isUniqueViolation && (message ?? "").contains("claims.question_id") }
}

extension SQLiteStore {
    /// Every table's column names (GRDB's bookkeeping left out), for comparing schemas across databases.
    public func schemaColumns() async throws -> [String: Set<String>] {
        try await pool.read { db in
            var columns: [String: Set<String>] = [:]
            let tables = try String.fetchAll(
                db,
                sql: """
                    SELECT name FROM sqlite_master
                    WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%'
                    """
            )
            for table in tables {
                columns[table] = Set(try db.columns(in: table).map(\.name))
            }
            return columns
        }
    }
}
