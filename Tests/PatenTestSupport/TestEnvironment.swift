import Foundation
import PatenApp
import PatenCore
import PatenStorage

/// The repository's root folder, for reading Config/, Migrations/ and docs/ in tests.
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The policy in Config/policy.json.
public func defaultPolicy() throws -> Policy {
    let path = repositoryRoot.appendingPathComponent("Config/policy.json").path
    return try PolicyLoader.parse(try Data(contentsOf: URL(fileURLWithPath: path)), source: path)
}

/// A fresh data directory with a migrated SQLite database, a manual clock, and shortcuts for making accounts and
/// questions. Made by `withTestEnvironment`, which removes the directory afterwards.
public struct TestEnvironment: Sendable {
    public let directory: URL
    public let runtime: PatenRuntime
    public let clock: ManualClock

    public var store: SQLiteStore { runtime.store }
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

/// Runs the body with a fresh test environment and removes its files afterwards. Outbound webhooks may go to
/// loopback (test receivers listen there) unless `configure` says otherwise.
public func withTestEnvironment<T>(
    configure: (inout PatenConfiguration) -> Void = { _ in },
    _ body: (TestEnvironment) async throws -> T
) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("paten-test-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    var configuration = PatenConfiguration()
    configuration.dataDirectory = directory.path
    configuration.policyPath = repositoryRoot.appendingPathComponent("Config/policy.json").path
    configuration.webhookAllowLoopback = true
    configure(&configuration)
    let clock = ManualClock()
    let runtime = try await PatenRuntime.open(configuration, clock: clock)
    return try await body(TestEnvironment(directory: directory, runtime: runtime, clock: clock))
}
