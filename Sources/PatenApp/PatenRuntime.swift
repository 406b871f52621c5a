import Foundation
import PatenCore
import PatenPostgres
import PatenStorage
import PatenWebhooks

/// Everything a Paten process needs, opened once: configuration, policy, the database and the services over it.
public struct PatenRuntime: Sendable {
    public let configuration: PatenConfiguration
    public let policy: Policy
    public let store: SQLiteStore
    public let desk: SupportDesk
    public let directory: HelperDirectory
    public let escalations: EscalationDesk
    public let metrics: MetricsDesk
    public let integrations: IntegrationDirectory
    /// Turns verified inbound webhooks into questions and customer messages.
    public let receiver: InboundWebhookReceiver
    /// Where outbound webhooks may go.
    public let destinations: NetworkDestinationGuard
    public let clock: any Clock

    /// Opens the data directory's database (creating it, applying pending migrations) and loads the policy.
    public static func open(
        _ configuration: PatenConfiguration, clock: any Clock = SystemClock(),
        ids: any IdentifierGenerator = RandomIdentifierGenerator()
    ) async throws -> PatenRuntime {
        guard configuration.databaseURL == nil else {
            throw PatenError.configuration(
                "db_url: serving on PostgreSQL is not available in this build; `paten migrate` prepares a PostgreSQL "
                    + "schema, and every other command runs on the embedded SQLite database (unset db_url / PATEN_DB_URL)."
            )
        }
        let policy = try PolicyFile.load(configuration.policyPath)
        let store = try await openStore(configuration)
        let hasher = SHA256SecretHasher()
        let sealer = try SecretBox(keyBytes: try secretsKey(configuration))
        let destinations = NetworkDestinationGuard(
            allowLoopback: configuration.webhookAllowLoopback, allowPrivate: configuration.webhookAllowPrivate
        )
        let desk = SupportDesk(
            policy: policy, questions: store, ratings: store, hasher: hasher, clock: clock, ids: ids,
            publicURL: configuration.externalURL
        )
        let directory = HelperDirectory(
            policy: policy, helpers: store, tokens: store, hasher: hasher, clock: clock, ids: ids
        )
        let integrations = IntegrationDirectory(
            integrations: store, outbox: store, accounts: directory, sealer: sealer, destinations: destinations,
            clock: clock, ids: ids, rotationOverlap: configuration.secretRotationOverlap
        )
        return PatenRuntime(
            configuration: configuration, policy: policy, store: store, desk: desk, directory: directory,
            escalations: EscalationDesk(escalations: store, clock: clock),
            metrics: MetricsDesk(metrics: store, calendar: policy.businessHours, clock: clock),
            integrations: integrations,
            receiver: InboundWebhookReceiver(integrations: integrations, accounts: directory, desk: desk, clock: clock),
            destinations: destinations, clock: clock
        )
    }

    /// The key that seals integration secrets: given in the configuration, or read from (and on first use
    /// created in) the key file.
    static func secretsKey(_ configuration: PatenConfiguration) throws -> [UInt8] {
        if let key = configuration.secretsKey { return try SecretBox.decodeKey(key, source: "secrets_key") }
        return try SecretBox.loadOrCreateKey(at: configuration.secretsKeyPath)
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

/// `paten migrate`: applies pending migrations to the configured database (PostgreSQL when `db_url` is set,
/// else the data directory's SQLite file); returns the database (password left out) and the ids applied.
public func migrateDatabase(_ configuration: PatenConfiguration) async throws -> (String, [String]) {
    if let text = configuration.databaseURL {
        let url = try DatabaseURL(text)
        return (url.redacted, try await PostgresStore.with(url) { try await $0.migrate() })
    }
    return (configuration.databasePath, try await PatenRuntime.openStore(configuration, migrate: false).migrate())
}
