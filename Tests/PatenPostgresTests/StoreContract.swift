import Foundation
import PatenCore
import PatenPostgres
import PatenStorage

/// The databases the contract suite runs on: SQLite always; PostgreSQL when the test server is there (in CI it
/// must be: see `serverPresentInCI`).
enum Backend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    var description: String { rawValue }

    static var available: [Backend] { PostgresTestServer.available ? allCases : [.sqlite] }
}

/// The repositories both stores implement so far (accounts, tokens, integrations).
typealias AccountStore = HelperRepository & TokenRepository & IntegrationRepository

/// Runs the body on a fresh, migrated store of the backend.
func withStore(_ backend: Backend, _ body: @Sendable (any AccountStore) async throws -> Void) async throws {
    switch backend {
    case .sqlite:
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("paten-contract-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("paten.sqlite").path)
        try await store.migrate()
        try await body(store)
    case .postgres:
        try await withPostgresDatabase { (url: DatabaseURL) async throws in
            try await PostgresStore.with(url) { (store: PostgresStore) async throws in
                try await store.migrate()
                try await body(store)
            }
        }
    }
}
