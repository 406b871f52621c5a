import Foundation
import PatenApp
import PatenCore
import PatenPostgres
import PatenTestSupport
import Testing

@Suite("Database choice")
struct DatabaseChoiceTests {
    static func configuration(_ url: DatabaseURL) -> PatenConfiguration {
        var configuration = PatenConfiguration()
        configuration.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        configuration.policyPath = repositoryRoot.appendingPathComponent("Config/policy.json").path
        configuration.databaseURL = url.connectionText
        configuration.secretsKey = Data(repeating: 7, count: 32).base64EncodedString()
        return configuration
    }

    @Test(
        "On PostgreSQL, pending migrations stop the start and are named; --migrate applies them; no SQLite file appears",
        .enabled(if: PostgresTestServer.available, "needs scripts/postgres.sh (run scripts/test.sh)")
    )
    func pendingMigrations() async throws {
        try await withPostgresDatabase { url in
            var configuration = Self.configuration(url)
            let refused = await #expect(throws: PatenError.self) {
                try await PatenRuntime.with(configuration) { _ in }
            }
            #expect(refused?.code == "migrations_pending")
            #expect(refused?.message.contains("0001_foundation") == true)
            #expect(refused?.message.contains("--migrate") == true)

            configuration.migrateOnStart = true
            let location = try await PatenRuntime.with(configuration) { (runtime: PatenRuntime) async throws in
                #expect(try await runtime.store.isReady())
                return runtime.store.location
            }
            #expect(location == url.redacted)
            #expect(!FileManager.default.fileExists(atPath: configuration.databasePath))

            // Once migrated, a plain start works.
            configuration.migrateOnStart = false
            try await PatenRuntime.with(configuration) { (runtime: PatenRuntime) async throws in #expect(try await runtime.store.isReady())
            }
        }
    }

    @Test(
        "On PostgreSQL every instance must share the secrets key: without one the start is refused",
        .enabled(if: PostgresTestServer.available, "needs scripts/postgres.sh (run scripts/test.sh)")
    )
    func sharedSecretsKey() async throws {
        try await withPostgresDatabase { url in
            var configuration = Self.configuration(url)
            configuration.secretsKey = nil
            configuration.migrateOnStart = true
            let error = await #expect(throws: PatenError.self) {
                try await PatenRuntime.with(configuration) { _ in }
            }
            #expect(error?.message.contains("secrets_key") == true)
            #expect(!FileManager.default.fileExists(atPath: configuration.secretsKeyPath))
        }
    }
}

@Suite("Starting instances together")
struct BootstrapRaceTests {
    @Test("Instances starting at once on an empty database make one admin, and only one prints a token", arguments: Backend.available)
    func oneAdmin(backend: Backend) async throws {
        try await withTestEnvironment(backend: backend) { env in
            let directory = env.runtime.directory
            let tokens = try await withThrowingTaskGroup(of: IssuedToken?.self) { group in
                for _ in 0..<8 { group.addTask { try await directory.bootstrapAdminIfEmpty() } }
                var issued: [IssuedToken] = []
                for try await token in group { if let token { issued.append(token) } }
                return issued
            }
            #expect(tokens.count == 1)
            #expect(try await env.store.helperCount() == 1)
        }
    }
}
