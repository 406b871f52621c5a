import Foundation
import GRDB
import PatenCore
import PatenStorage
import PatenTestSupport
import Testing

@Suite("SQLite migrations")
struct MigrationTests {
    @Test("An empty file is migrated to the full schema once; a second run applies nothing")
    func fromEmpty() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("paten-mig-\(UUID().uuidString).sqlite").path
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let store = try SQLiteStore(path: path)
        #expect(
            try await store.pendingMigrations() == [
                "0001_foundation", "0002_escalations", "0003_integrations", "0004_message_order", "0005_queue_order",
                "0006_idempotency_keys", "0007_rating_links", "0008_idempotency_writes", "0009_programme", "0010_incidents",
                "0011_band_index",
                "0012_console", "0013_privacy",
            ])
        #expect(try await store.isReady() == false)
        #expect(
            try await store.migrate() == [
                "0001_foundation", "0002_escalations", "0003_integrations", "0004_message_order", "0005_queue_order",
                "0006_idempotency_keys", "0007_rating_links", "0008_idempotency_writes", "0009_programme", "0010_incidents",
                "0011_band_index",
                "0012_console", "0013_privacy",
            ])
        #expect(try await store.migrate() == [])
        #expect(try await store.isReady())
        for table in [
            "helpers", "access_tokens", "questions", "messages", "claims", "question_events", "sla_timers", "escalations",
            "escalation_changes", "ratings", "idempotency_keys",
        ] {
            #expect(try await store.count("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", [table]) == 1)
        }
        #expect(try await store.integrityCheck() == "ok")
    }

    @Test("The migrations compiled into the binary are the files in Migrations/sqlite, byte for byte")
    func embeddedMatchFiles() throws {
        let folder = repositoryRoot.appendingPathComponent("Migrations/sqlite")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
        let embedded = SQLiteStore.migrationSources
        #expect(embedded.map(\.id) == files.map { String($0.dropLast(4)) })
        for (migration, file) in zip(embedded, files) {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            #expect(
                migration.sql == text.trimmingCharacters(in: .newlines),
                "\(file) differs from the embedded copy; run scripts/embed-resources.sh"
            )
        }
    }
}
