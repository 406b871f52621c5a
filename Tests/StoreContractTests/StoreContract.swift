import Foundation
import GRDB
import PatenCore
import PatenPostgres
import PatenTestSupport
import PostgresNIO

@testable import PatenStorage

/// Every repository, as both stores implement it.
typealias AccountStore = PatenStore & StoreDiagnostics

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

/// Writes an outbox row as a change's transaction would, straight into either database (the repositories have no
/// such method: outbox rows come only from changes).
func insertOutboxMessage(
    _ store: any AccountStore, id: String, integrationId: String, at time: Date, payload: String = "{}"
) async throws {
    let ms = time.millisecondsSince1970
    if let sqlite = store as? SQLiteStore {
        try await sqlite.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO outbox_messages (id, integration_id, event_type, question_id, payload, created_at, state,
                    next_attempt_at) VALUES (?, ?, 'question.created', NULL, ?, ?, 'pending', ?)
                    """,
                arguments: [id, integrationId, Data(payload.utf8), ms, ms]
            )
        }
    } else if let postgres = store as? PostgresStore {
        try await postgres.client.query(
            """
            INSERT INTO outbox_messages (id, integration_id, event_type, question_id, payload, created_at, state,
            next_attempt_at) VALUES (\(id), \(integrationId), 'question.created', NULL, \(Data(payload.utf8)), \(ms),
            'pending', \(ms))
            """
        )
    }
}

/// A value for `execute`.
enum TestValue: Sendable {
    case text(String)
    case int(Int64)
    case null
}

/// Runs one statement written with `?` placeholders on either database (`$1, $2...` on PostgreSQL): for test
/// data the repositories only write as part of larger changes.
func execute(_ store: any AccountStore, _ sql: String, _ values: [TestValue]) async throws {
    if let sqlite = store as? SQLiteStore {
        try await sqlite.pool.write { db in
            let arguments: [(any DatabaseValueConvertible)?] = values.map {
                switch $0 {
                case .text(let text): text
                case .int(let number): number
                case .null: nil
                }
            }
            try db.execute(sql: sql, arguments: StatementArguments(arguments))
        }
    } else if let postgres = store as? PostgresStore {
        var bindings = PostgresBindings()
        for value in values {
            switch value {
            case .text(let text): bindings.append(text)
            case .int(let number): bindings.append(number)
            case .null: bindings.appendNull()
            }
        }
        try await postgres.client.query(PostgresQuery(unsafeSQL: PostgresStore.numbered(sql), binds: bindings))
    }
}
