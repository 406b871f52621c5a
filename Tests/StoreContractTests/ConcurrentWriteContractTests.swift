import Foundation
import PatenCore
import PatenPostgres
import PatenTestSupport
import PostgresNIO
import Testing

/// The same behaviour from every store when writes collide: rules checked inside the write, locks taken in one
/// order, and PostgreSQL's aborted transactions run again.
@Suite("Store contract: concurrent writes")
struct ConcurrentWriteContractTests {
    static let start = AccountContractTests.start

    @Test("Of two admins demoting or deactivating each other at the same instant, exactly one succeeds", arguments: Backend.available)
    func mutualDemotion(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            try await store.insertHelper(AccountContractTests.helper("h_a", "anna", .admin))
            try await store.insertHelper(AccountContractTests.helper("h_b", "bert", .admin))
            for round in 0..<25 {
                let change = round.isMultiple(of: 2) ? HelperChange(role: .staff) : HelperChange(active: false)
                let at = Self.start.addingTimeInterval(Double(round))
                // When both admins lose their admin rights at once
                let results = await withTaskGroup(of: (any Error)?.self) { group in
                    for id in ["h_a", "h_b"] {
                        group.addTask {
                            do {
                                _ = try await store.updateHelper(id: id, change: change, at: at)
                                return nil
                            } catch {
                                return error
                            }
                        }
                    }
                    return await group.reduce(into: []) { $0.append($1) }
                }
                // Then one change went through and the other was refused as the last admin's
                let refusals = results.compactMap { $0 }
                #expect(refusals.count == 1, "round \(round): \(refusals)")
                #expect(refusals.allSatisfy { ($0 as? PatenError)?.code == "last_admin" }, "round \(round): \(refusals)")
                let admins = try await store.helpers(role: .admin).filter(\.active)
                #expect(admins.count == 1, "round \(round)")
                for id in ["h_a", "h_b"] {
                    _ = try await store.updateHelper(id: id, change: HelperChange(role: .admin, active: true), at: at)
                }
            }
        }
    }

    @Test(
        "Recording delivery attempts while the integration is changed and its secret rotated never deadlocks",
        arguments: Backend.available)
    func attemptsAndIntegrationChanges(_ backend: Backend) async throws {
        try await withStore(backend) { base in
            // No retries on PostgreSQL: only the lock order can keep these transactions from deadlocking.
            let store: any AccountStore =
                (base as? PostgresStore).map {
                    PostgresStore(client: $0.client, location: $0.location, transactionAttempts: 1)
                } ?? base
            try await OutboxContractTests.setUp(store, count: 0)
            for round in 0..<30 {
                let now = Self.start.addingTimeInterval(Double(round + 1))
                for index in 0..<4 {
                    try await insertOutboxMessage(store, id: "msg_\(round)_\(index)", integrationId: "int_1", at: now)
                }
                let due = try await store.claimDueMessages(at: now, lease: 60, limit: 10, excluding: [])
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for delivery in due {
                        group.addTask {
                            let retry = DeliveryDisposition.retry(at: now.addingTimeInterval(86400))
                            _ = try await store.finishAttempt(OutboxContractTests.report(delivery, retry, at: now))
                        }
                    }
                    group.addTask {
                        _ = try await store.updateIntegration(
                            id: "int_1", change: IntegrationChange(outboundURL: .some("https://bridge.example/hook")), at: now
                        )
                    }
                    group.addTask {
                        try await store.rotateSecret(
                            integrationId: "int_1", secret: IntegrationContractTests.secret("sec_\(round)", at: now),
                            previousValidUntil: now.addingTimeInterval(3600)
                        )
                    }
                    try await group.waitForAll()
                }
            }
            #expect(try await store.count("SELECT COUNT(*) FROM integration_secrets") == 31)
        }
    }

    /// Makes every update of `helpers` fail with the SQLSTATE, for the first `times` updates.
    static func injectFailures(_ store: PostgresStore, sqlState: String, times: Int) async throws {
        for statement in [
            "CREATE SEQUENCE injected_failures",
            """
            CREATE FUNCTION fail_helper_updates() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('injected_failures') <= \(times) THEN
                    RAISE EXCEPTION 'injected failure' USING ERRCODE = '\(sqlState)';
                END IF;
                RETURN NEW;
            END $$
            """,
            "CREATE TRIGGER fail_helper_updates BEFORE UPDATE ON helpers FOR EACH ROW EXECUTE FUNCTION fail_helper_updates()",
        ] {
            try await store.client.query(PostgresQuery(unsafeSQL: statement))
        }
    }

    @Test(
        "A write PostgreSQL aborts for a serialization failure or a deadlock is run again and succeeds",
        .enabled(if: PostgresTestServer.available), arguments: ["40001", "40P01"])
    func retried(_ sqlState: String) async throws {
        try await withStore(.postgres) { store in
            let postgres = try #require(store as? PostgresStore)
            try await store.insertHelper(AccountContractTests.helper("h_1", "vera"))
            try await Self.injectFailures(postgres, sqlState: sqlState, times: 2)
            let changed = try await store.updateHelper(id: "h_1", change: HelperChange(capacity: 7), at: Self.start)
            #expect(changed.capacity == 7)
            #expect(try await store.helper(id: "h_1")?.capacity == 7)
            // Two aborted tries and the one that worked.
            #expect(try await store.count("SELECT last_value FROM injected_failures") == 3)
        }
    }

    @Test(
        "A write that keeps being aborted gives up after five tries with a 503 database_busy and changes nothing",
        .enabled(if: PostgresTestServer.available))
    func retriesAreBounded() async throws {
        try await withStore(.postgres) { store in
            let postgres = try #require(store as? PostgresStore)
            try await store.insertHelper(AccountContractTests.helper("h_1", "vera"))
            try await Self.injectFailures(postgres, sqlState: "40P01", times: 1000)
            let refused = await #expect(throws: PatenError.self) {
                _ = try await store.updateHelper(id: "h_1", change: HelperChange(capacity: 7), at: Self.start)
            }
            #expect(refused?.kind == .unavailable && refused?.code == "database_busy")
            #expect(refused?.details["retry_after"] == "1")
            #expect(try await store.count("SELECT last_value FROM injected_failures") == 5)
            #expect(try await store.helper(id: "h_1")?.capacity == 3)
        }
    }
}
