import Foundation
import PatenCore
import PatenStorage

/// Everything a Paten process needs, opened once: configuration, policy, the database and the services over it.
public struct PatenRuntime: Sendable {
    public let configuration: PatenConfiguration
    public let policy: Policy
    public let store: SQLiteStore
    public let desk: SupportDesk
    public let directory: HelperDirectory
    public let escalations: EscalationDesk
    public let metrics: MetricsDesk
    public let clock: any Clock

    /// Opens the data directory's database (creating it, applying pending migrations) and loads the policy.
    public static func open(
        _ configuration: PatenConfiguration, clock: any Clock = SystemClock(),
        ids: any IdentifierGenerator = RandomIdentifierGenerator()
    ) async throws -> PatenRuntime {
        let policy = try PolicyFile.load(configuration.policyPath)
        let store = try await openStore(configuration)
        let hasher = SHA256SecretHasher()
        return PatenRuntime(
            configuration: configuration, policy: policy, store: store,
            desk: SupportDesk(
                policy: policy, questions: store, ratings: store, hasher: hasher, clock: clock, ids: ids,
                publicURL: configuration.externalURL
            ),
            directory: HelperDirectory(
                policy: policy, helpers: store, tokens: store, hasher: hasher, clock: clock, ids: ids
            ),
            escalations: EscalationDesk(escalations: store, clock: clock),
            metrics: MetricsDesk(metrics: store, calendar: policy.businessHours, clock: clock),
            clock: clock
        )
    }

    /// Opens the data directory's database, creating it and (unless told not to) applying pending migrations.
    public static func openStore(_ configuration: PatenConfiguration, migrate: Bool = true) async throws -> SQLiteStore {
        do {
            try FileManager.default.createDirectory(
                atPath: configuration.dataDirectory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw PatenError.configuration(
                "data_dir: cannot create \(configuration.dataDirectory) (\(error.localizedDescription))."
            )
        }
        let store = try SQLiteStore(path: configuration.databasePath)
        if migrate { try await store.migrate() }
        return store
    }
}
