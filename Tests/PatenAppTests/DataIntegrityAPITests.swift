import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import PatenCore
import PatenTestSupport
import Testing

@testable import PatenStorage

@Suite("Data integrity over the API")
struct DataIntegrityAPITests {
    @Test("422: no role change crosses the integration boundary, either way; the account stays as it was", arguments: Backend.available)
    func integrationBoundary(backend: Backend) async throws {
        try await withAPI(backend: backend) { env, client in
            let admin = try await env.account("boss", .admin).token
            let bridge = try await env.account("bridge", .integration).helper
            _ = try await env.account("vera", .volunteer)
            for role in ["admin", "staff", "volunteer"] {
                let refused = try await client.call(.patch, "/v1/helpers/bridge", token: admin, json: ["role": role])
                #expect(refused.status == 422)
                #expect(refused.errorCode == "role_change_not_allowed")
                #expect(refused.raw.contains("create a new account"))
            }
            for handle in ["vera", "boss"] {
                let refused = try await client.call(.patch, "/v1/helpers/\(handle)", token: admin, json: ["role": "integration"])
                #expect(refused.status == 422)
                #expect(refused.errorCode == "role_change_not_allowed")
            }
            #expect(try await env.store.helper(id: bridge.id)?.role == .integration)
            #expect(try await env.store.helper(handle: "vera")?.role == .volunteer)
            #expect(try await env.store.helpers(role: .admin).map(\.handle) == ["boss"])
            // Changes within each side still work.
            #expect(try await client.call(.patch, "/v1/helpers/vera", token: admin, json: ["role": "staff"]).string("role") == "staff")
            #expect(try await client.call(.patch, "/v1/helpers/bridge", token: admin, json: ["role": "integration"]).status == 200)
        }
    }

    /// The SQLite store of the environment, with its writer connection giving up after `busyMilliseconds` (the
    /// server waits 10 s) and its database file limited to `maxPages` pages when given.
    static func constrain(_ env: TestEnvironment, busyMilliseconds: Int, maxPages: Int? = nil) async throws -> SQLiteStore {
        let store = try #require(env.store as? SQLiteStore)
        try await store.pool.base.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA busy_timeout = \(busyMilliseconds)")
            if let maxPages { try db.execute(sql: "PRAGMA max_page_count = \(maxPages)") }
        }
        return store
    }

    @Test("503 with Retry-After: a write while another process holds SQLite's write lock is database_busy, then works")
    func sqliteBusy() async throws {
        try await withAPI { env, client in
            let staff = try await env.account("staff1", .staff).token
            // The token's first use is noted; do it before the lock so that only the submission needs to write.
            #expect(try await client.call(.get, "/v1/me", token: staff).status == 200)
            let store = try await Self.constrain(env, busyMilliseconds: 100)
            // Given another process (the admin CLI, say) in the middle of a long write
            var configuration = Configuration()
            configuration.allowsUnsafeTransactions = true
            let other = try DatabaseQueue(path: store.location, configuration: configuration)
            try await other.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
            // When a question is submitted
            let busy = try await client.call(.post, "/v1/questions", token: staff, json: questionBody())
            // Then the client is told to come back shortly, not that the server broke
            #expect(busy.status == 503)
            #expect(busy.errorCode == "database_busy")
            #expect(busy.headers[.retryAfter] == "1")
            #expect(try await env.store.count("SELECT COUNT(*) FROM questions") == 0)
            try await other.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
            #expect(try await client.call(.post, "/v1/questions", token: staff, json: questionBody()).status == 201)
        }
    }

    @Test("503 with Retry-After: a write the disk has no room for is database_unavailable, and nothing half-written stays")
    func sqliteFull() async throws {
        try await withAPI { env, client in
            let staff = try await env.account("staff1", .staff).token
            #expect(try await client.call(.get, "/v1/me", token: staff).status == 200)
            let store = try #require(env.store as? SQLiteStore)
            let pages = try await store.count("SELECT page_count FROM pragma_page_count()", [])
            // Given a database file that cannot grow (as on a full disk)
            _ = try await Self.constrain(env, busyMilliseconds: 10_000, maxPages: pages)
            let body = String(repeating: "My eSIM shows an error after the update. ", count: 1000)
            // When a question too big for the free pages is submitted
            let full = try await client.call(.post, "/v1/questions", token: staff, json: questionBody(body: body))
            // Then it is a 503 the client may retry later
            #expect(full.status == 503)
            #expect(full.errorCode == "database_unavailable")
            #expect(full.headers[.retryAfter] == "30")
            #expect(full.raw.contains("disk is full"))
            #expect(try await env.store.count("SELECT COUNT(*) FROM questions") == 0)
            _ = try await Self.constrain(env, busyMilliseconds: 10_000, maxPages: 1_073_741_823)
            #expect(try await client.call(.post, "/v1/questions", token: staff, json: questionBody(body: body)).status == 201)
        }
    }
}
