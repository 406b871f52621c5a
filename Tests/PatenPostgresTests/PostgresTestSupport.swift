import Foundation
import Logging
import PatenCore
import PatenPostgres
import PostgresNIO

/// The throwaway cluster `scripts/postgres.sh` starts; `scripts/test.sh` passes its URL in
/// `PATEN_TEST_POSTGRES_URL`.
enum PostgresTestServer {
    static var url: String? { ProcessInfo.processInfo.environment["PATEN_TEST_POSTGRES_URL"] }
    static var available: Bool { url != nil }
    /// In CI a missing PostgreSQL fails the run instead of skipping its tests.
    static var required: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
}

/// Runs the body against a new, empty database on the test server, dropped afterwards.
func withPostgresDatabase<T: Sendable>(_ body: @Sendable (DatabaseURL) async throws -> T) async throws -> T {
    guard let server = PostgresTestServer.url else {
        throw PatenError.configuration("PATEN_TEST_POSTGRES_URL is not set; run scripts/test.sh")
    }
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

/// Runs one statement outside a transaction.
func execute(_ sql: String, on url: DatabaseURL) async throws {
    try await PostgresStore.with(url) { store in
        try await store.client.query(PostgresQuery(unsafeSQL: sql))
    }
}
