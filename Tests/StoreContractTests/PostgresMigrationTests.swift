import Foundation
import GRDB
import PatenCore
import PatenPostgres
import PatenStorage
import PatenTestSupport
import PostgresNIO
import Testing

@Suite("PostgreSQL migrations")
struct PostgresMigrationTests {
    @Test("Migrations/postgres has the same ids as Migrations/sqlite, and the binary carries the files byte for byte")
    func sameMigrations() throws {
        let folder = repositoryRoot.appendingPathComponent("Migrations/postgres")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
        let embedded = PostgresStore.migrationSources
        #expect(embedded.map(\.id) == files.map { String($0.dropLast(4)) })
        #expect(embedded.map(\.id) == SQLiteStore.migrationSources.map(\.id))
        for (migration, file) in zip(embedded, files) {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            #expect(migration.sql + "\n" == text, "\(file) changed; run scripts/embed-resources.sh")
            // The splitter's assumptions: no quoted semicolons, function bodies only between $$ pairs.
            #expect(text.components(separatedBy: "$$").count % 2 == 1, "\(file): unpaired $$")
            for statement in SQLScript.statements(migration.sql) {
                #expect(statement.filter { $0 == "'" }.count % 2 == 0, "\(statement)")
            }
        }
    }

    @Test("Statements split on semicolons, without comment lines")
    func splitting() {
        let script = "-- a comment; with a semicolon\nCREATE TABLE a (x INT);\n\n-- another\nCREATE INDEX b ON a (x);\n"
        #expect(SQLScript.statements(script) == ["CREATE TABLE a (x INT)", "CREATE INDEX b ON a (x)"])
        let function = "CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n    RETURN NULL;\nEND\n$$;\nCREATE TABLE c (y INT);"
        #expect(
            SQLScript.statements(function) == [
                "CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n    RETURN NULL;\nEND\n$$", "CREATE TABLE c (y INT)",
            ]
        )
    }

    @Test("A database URL is read with its TLS mode; a bad one says what to fix and never shows the password")
    func urls() throws {
        let url = try DatabaseURL("postgres://paten:s%40cret@db.example.com:6432/support?sslmode=verify-full")
        #expect(url.host == "db.example.com" && url.port == 6432 && url.database == "support")
        #expect(url.password == "s@cret")
        #expect(try DatabaseURL("postgres://u:a%2541b@h/d").password == "a%41b")
        #expect(url.sslMode == "verify-full")
        #expect(!url.redacted.contains("cret"))
        #expect(try DatabaseURL("postgresql://u@h/d").sslMode == "prefer")
        for bad in [
            "mysql://u@h/d", "postgres://h/d", "postgres://u@h", "postgres://u@h/d?sslmode=maybe", "postgres://u@h/d?x=1",
        ] {
            #expect(throws: PatenError.self, "\(bad)") { try DatabaseURL(bad) }
        }
    }

    @Test("In CI the PostgreSQL tests run: a missing server fails the run instead of skipping")
    func serverPresentInCI() {
        if PostgresTestServer.required {
            #expect(PostgresTestServer.available, "PATEN_TEST_POSTGRES_URL is not set; scripts/postgres.sh failed?")
        }
    }

    @Test(
        "An empty database is migrated once; a second run applies nothing",
        .enabled(if: PostgresTestServer.available, "needs scripts/postgres.sh (run scripts/test.sh)")
    )
    func migrateFromEmpty() async throws {
        try await withPostgresDatabase { (url: DatabaseURL) async throws in
            try await PostgresStore.with(url) { (store: PostgresStore) async throws in
                #expect(try await store.pendingMigrations() == PostgresStore.migrationSources.map(\.id))
                #expect(try await store.isReady() == false)
                #expect(try await store.migrate() == PostgresStore.migrationSources.map(\.id))
                #expect(try await store.migrate() == [])
                #expect(try await store.pendingMigrations() == [])
                #expect(try await store.isReady())
            }
        }
    }

    @Test(
        "Two processes migrating at once apply each migration once",
        .enabled(if: PostgresTestServer.available, "needs scripts/postgres.sh (run scripts/test.sh)")
    )
    func concurrentMigrations() async throws {
        try await withPostgresDatabase { (url: DatabaseURL) async throws in
            let runs = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<4 { group.addTask { try await PostgresStore.with(url) { try await $0.migrate() } } }
                var all: [[String]] = []
                for try await run in group { all.append(run) }
                return all
            }
            #expect(runs.flatMap { $0 }.sorted() == PostgresStore.migrationSources.map(\.id))
        }
    }

    @Test(
        "Both databases have the same tables and columns",
        .enabled(if: PostgresTestServer.available, "needs scripts/postgres.sh (run scripts/test.sh)")
    )
    func schemaParity() async throws {
        let sqlite = try await withTestEnvironment { env in try await (env.store as! SQLiteStore).schemaColumns() }
        let postgres = try await withPostgresDatabase { (url: DatabaseURL) async throws in
            try await PostgresStore.with(url) { (store: PostgresStore) async throws in
                try await store.migrate()
                var columns: [String: Set<String>] = [:]
                let rows = try await store.client.query(
                    """
                    SELECT table_name, column_name FROM information_schema.columns
                    WHERE table_schema = 'public' AND table_name <> 'paten_migrations'
                    """
                )
                for try await (table, column) in rows.decode((String, String).self) {
                    columns[table, default: []].insert(column)
                }
                return columns
            }
        }
        var expected = sqlite
        // SQLite keeps write order in its rowid; PostgreSQL needs the column.
        expected["outbox_messages", default: []].insert("seq")
        expected["messages", default: []].insert("seq")
        // SQLite keeps signatures' band keys in an FTS5 index (migration 0011), PostgreSQL in a table of rows.
        for table in expected.keys where table.hasPrefix("signature_band_index") { expected[table] = nil }
        expected["signature_bands"] = ["band", "created_at", "question_id"]
        #expect(postgres == expected)
    }

    @Test("0007 removes rating links written before it from the timeline and from sent outbox messages", arguments: Backend.available)
    func ratingLinksScrubbed(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let staff = try await env.account("lead", .staff).helper
            let question = try await env.submit("Old question", by: staff)
            let chat = try await env.runtime.integrations.create(NewIntegration(name: "chat", kind: .standard))
            // As the previous release wrote them: the link in the event and in every outbox message.
            let payload = #"{"data":{"question_id":"\#(question.id)","rating_url":"https://p.example/v1/ratings/rt_legacy"}}"#
            let bytes = backend == .sqlite ? "CAST('\(payload)' AS BLOB)" : "convert_to('\(payload)', 'UTF8')"
            var statements = [
                """
                INSERT INTO question_events (question_id, type, actor_id, at, data) VALUES ('\(question.id)',
                'question.resolved', '\(staff.id)', 1, '{"rating_url":"https://p.example/v1/ratings/rt_legacy","tier":"volunteer"}')
                """
            ]
            for (id, state) in [("msg_sent", "delivered"), ("msg_dead", "dead"), ("msg_waiting", "pending")] {
                statements.append(
                    """
                    INSERT INTO outbox_messages (id, integration_id, event_type, question_id, payload, created_at, state)
                    VALUES ('\(id)', '\(chat.integration.id)', 'question.resolved', '\(question.id)', \(bytes), 1, '\(state)')
                    """
                )
            }
            let folder = backend == .sqlite ? "sqlite" : "postgres"
            let migration = try String(
                contentsOf: repositoryRoot.appendingPathComponent("Migrations/\(folder)/0007_rating_links.sql"), encoding: .utf8
            )
            let script = statements + SQLScript.statements(migration)
            switch backend {
            case .sqlite:
                let queue = try DatabaseQueue(path: env.runtime.configuration.databasePath)
                try await queue.write { db in
                    for statement in script { try db.execute(sql: statement) }
                }
            case .postgres:
                let url = try DatabaseURL(try #require(env.runtime.configuration.databaseURL))
                for statement in script { try await execute(statement, on: url) }
            }
            #expect(try await env.store.count("SELECT COUNT(*) FROM question_events WHERE data LIKE '%rt_legacy%'") == 0)
            let tier = "SELECT COUNT(*) FROM question_events WHERE type = 'question.resolved' AND data LIKE '%volunteer%'"
            #expect(try await env.store.count(tier) == 1)
            let text = backend == .sqlite ? "CAST(payload AS TEXT)" : "convert_from(payload, 'UTF8')"
            // The pending message still has to reach the customer; the sent ones keep everything but the link.
            let kept = "SELECT COUNT(*) FROM outbox_messages WHERE \(text) LIKE '%rt_legacy%' AND id = 'msg_waiting'"
            #expect(try await env.store.count(kept) == 1)
            #expect(try await env.store.count("SELECT COUNT(*) FROM outbox_messages WHERE \(text) LIKE '%rt_legacy%'") == 1)
            let intact = "SELECT COUNT(*) FROM outbox_messages WHERE \(text) LIKE '%\(question.id)%'"
            #expect(try await env.store.count(intact) == 3)
        }
    }
}
