import Foundation
import Logging
import PatenCore
import PatenPostgres
import PostgresNIO

/// The throwaway cluster `scripts/postgres.sh` starts; `scripts/test.sh` passes its URL in
/// `PATEN_TEST_POSTGRES_URL`.
public enum PostgresTestServer {
    public static var url: String? { ProcessInfo.processInfo.environment["PATEN_TEST_POSTGRES_URL"] }
    /// Whether the server is there; when it is not, outside CI, says once on standard error that the PostgreSQL
    /// tests are skipped.
    public static var available: Bool {
        _ = warnedOnce
        return url != nil
    }
    /// In CI a missing PostgreSQL fails the run instead of skipping its tests.
    public static var required: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    // A skipped backend otherwise shows only as fewer test cases, which nobody notices; in CI
    // `serverPresentInCI` fails the run instead.
    private static let warnedOnce: Void = {
        guard url == nil, !required else { return }
        let warning = """
            warning: PATEN_TEST_POSTGRES_URL is not set: every PostgreSQL test is SKIPPED and only SQLite is tested. \
            Run scripts/test.sh, or export PATEN_TEST_POSTGRES_URL=$(scripts/postgres.sh start).

            """
        FileHandle.standardError.write(Data(warning.utf8))
    }()
}

/// Lets a few test databases exist at once. Every CREATE and DROP DATABASE forces a checkpoint and they run one
/// at a time: with a hundred tests starting together, the last ones waited past the store's 10 s connect limit.
actor TestDatabaseGate {
    static let shared = TestDatabaseGate(permits: 3)

    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(permits: Int) { free = permits }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            free += 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}

/// Runs the body against a new, empty database on the test server, dropped afterwards.
public func withPostgresDatabase<T: Sendable>(_ body: (DatabaseURL) async throws -> T) async throws -> T {
    guard let server = PostgresTestServer.url else {
        throw PatenError.configuration("PATEN_TEST_POSTGRES_URL is not set; run scripts/test.sh")
    }
    await TestDatabaseGate.shared.acquire()
    defer { Task { await TestDatabaseGate.shared.release() } }
    let admin = try DatabaseURL(server + "?sslmode=disable")
    let name = "paten_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
    try await execute("CREATE DATABASE \(name)", on: admin)
    var url = admin
    url.database = String(name)
    do {
        let result = try await body(url)
        try await execute("DROP DATABASE \(name) WITH (FORCE)", on: admin)
        return result
    } catch {
        try? await execute("DROP DATABASE \(name) WITH (FORCE)", on: admin)
        throw error
    }
}

/// Runs one statement outside a transaction. A server busy with other tests' CREATE and DROP DATABASE (each a
/// checkpoint) may not answer a new connection in time: that is tried again, twice.
public func execute(_ sql: String, on url: DatabaseURL) async throws {
    for attempt in 1...3 {
        do {
            return try await PostgresStore.with(url) { store in
                try await store.client.query(PostgresQuery(unsafeSQL: sql))
            }
        } catch let error as PatenError where error.code == "database_unavailable" && attempt < 3 {
            continue
        }
    }
}

/// The databases the runtime and contract suites run on: SQLite always; PostgreSQL when the test server is there
/// (in CI it must be: `serverPresentInCI` fails the run otherwise).
public enum Backend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { rawValue }

    /// The backends this run can test.
    public static var available: [Backend] { PostgresTestServer.available ? allCases : [.sqlite] }
}

extension DatabaseURL {
    /// The URL as `db_url` text; test servers have no password, so the redacted form is the whole address.
    public var connectionText: String {
        precondition(password == nil, "the test server is expected to need no password")
        return redacted
    }
}

extension TestEnvironment {
    /// Runs `statements` in a transaction on a connection of its own (on the environment's PostgreSQL database), then
    /// the body while that transaction holds what they locked, then rolls it back: for stopping another transaction
    /// at a chosen step.
    public func holdingPostgresTransaction<T: Sendable>(
        _ statements: [String], _ body: () async throws -> T
    ) async throws -> T {
        guard let text = runtime.configuration.databaseURL else {
            throw PatenError.configuration("holdingPostgresTransaction needs a PostgreSQL environment")
        }
        let logger = Logger(label: "paten-test-hold")
        return try await PostgresStore.with(try DatabaseURL(text)) { store in
            try await store.client.withConnection { connection in
                try await connection.query("BEGIN", logger: logger)
                for statement in statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                do {
                    let result = try await body()
                    try await connection.query("ROLLBACK", logger: logger)
                    return result
                } catch {
                    try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        }
    }
}
