import Foundation
import PatenApp
import PatenCore
import PatenPostgres
import PatenStorage

/// The repository's root folder, for reading Config/, Migrations/ and docs/ in tests.
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The policy in Config/policy.json.
public func defaultPolicy() throws -> Policy {
    let path = repositoryRoot.appendingPathComponent("Config/policy.json").path
    return try PolicyLoader.parse(try Data(contentsOf: URL(fileURLWithPath: path)), source: path)
}

/// A fresh data directory and a fresh, migrated database (SQLite, or a new PostgreSQL database on the test server),
/// a manual clock, and shortcuts for making accounts and questions. Made by `withTestEnvironment`, which removes
/// the directory and drops the database afterwards.
public struct TestEnvironment: Sendable {
    public let directory: URL
    public let runtime: PatenRuntime
    public let clock: ManualClock
    public let backend: Backend

    public var store: any PatenStore & StoreDiagnostics { runtime.store }
    public var desk: SupportDesk { runtime.desk }
    public var directoryService: HelperDirectory { runtime.directory }

    /// Makes an account and a token for it.
    @discardableResult
    public func account(
        _ handle: String, _ role: Role, skills: [String] = [], languages: [String] = [], capacity: Int? = nil
    ) async throws -> (helper: Helper, token: String) {
        let helper = try await runtime.directory.create(
            NewHelper(handle: handle, role: role, skills: skills, languages: languages, capacity: capacity)
        )
        return (helper, try await runtime.directory.issueToken(for: helper.id).secret)
    }

    /// Submits a question as the given account.
    public func submit(
        _ subject: String, body: String = "Please help.", topic: String? = nil, language: String? = nil,
        priority: String? = nil, customer: Customer = Customer(id: "cust-1", name: "Ann Example"), by submitter: Helper
    ) async throws -> Question {
        try await runtime.desk.submit(
            QuestionSubmission(
                subject: subject, body: body, customer: customer, topic: topic, language: language, priority: priority
            ),
            by: submitter
        )
    }
}

/// Runs the body with a fresh test environment on the backend and removes its files (and database) afterwards.
/// Outbound webhooks may go to loopback (test receivers listen there) unless `configure` says otherwise.
public func withTestEnvironment<T: Sendable>(
    backend: Backend = .sqlite, configure: (inout PatenConfiguration) -> Void = { _ in },
    _ body: (TestEnvironment) async throws -> T
) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("paten-test-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    var configuration = PatenConfiguration()
    configuration.dataDirectory = directory.path
    configuration.policyPath = repositoryRoot.appendingPathComponent("Config/policy.json").path
    configuration.webhookAllowLoopback = true
    let clock = ManualClock()
    switch backend {
    case .sqlite:
        configure(&configuration)
        return try await PatenRuntime.with(configuration, clock: clock) { runtime in
            try await body(TestEnvironment(directory: directory, runtime: runtime, clock: clock, backend: backend))
        }
    case .postgres:
        return try await withPostgresDatabase { url in
            configuration.databaseURL = url.connectionText
            configuration.migrateOnStart = true
            configuration.secretsKey = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            configure(&configuration)
            return try await PatenRuntime.with(configuration, clock: clock) { runtime in
                try await body(TestEnvironment(directory: directory, runtime: runtime, clock: clock, backend: backend))
            }
        }
    }
}
